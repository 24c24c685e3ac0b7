// SIMD mask upsample, templated on an ISA's Vec; same arithmetic, in the same order, as mask_base.cpp.
#pragma once
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels.h"
#include "resample_coeffs.h"
#include "scratch.h"
#include "simd_loop.h"

namespace cleancut {
namespace {

template <class V>
void upsample_mask_simd(PlaneF32 src, MutImageU8 dst) {
  using F = typename V::F;
  const float first = src.data[0];
  F lo_v = V::set1(first), hi_v = V::set1(first);
  for (int64_t r = 0; r < src.height; ++r) {
    const float* in = src.data + r * src.row_stride;
    vector_loop<V::N>(src.width, [&](auto tail, int64_t x, int64_t count) {
      const F v = load_f32<V>(in + x, count, first, tail);
      lo_v = V::min(lo_v, v);
      hi_v = V::max(hi_v, v);
    });
  }
  const float lo = V::reduce_min(lo_v), hi = V::reduce_max(hi_v);
  const float scale = hi > lo ? 255.0f / (hi - lo) : 0.0f;
  const auto cx_table = lanczos_coeffs(src.width, dst.width);
  const ResampleCoeffs& cx = *cx_table;
  const auto cy_table = lanczos_coeffs(src.height, dst.height);
  const ResampleCoeffs& cy = *cy_table;

  // Full vectors across the padded width: padded lanes have zero weights and in-range indices.
  // When a block's taps all fall inside 2N source values from its first index (always, when
  // upscaling), two loads and an in-register permute replace a gather; other blocks gather.
  const int64_t blocks = cx.padded_out / V::N;
  std::vector<int32_t> base(blocks), relative(cx.taps * cx.padded_out);
  std::vector<uint8_t> permutable(blocks);
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t x0 = b * V::N;
    base[b] = cx.index[x0];
    bool fits = true;
    for (int64_t k = 0; k < cx.taps; ++k) {
      for (int64_t x = x0; x < x0 + V::N; ++x) {
        const int64_t offset = cx.index[k * cx.padded_out + x] - base[b];
        fits &= x >= dst.width || (offset >= 0 && offset < 2 * V::N);
        relative[k * cx.padded_out + x] = static_cast<int32_t>(offset >= 0 && offset < 2 * V::N ? offset : 0);
      }
    }
    permutable[b] = fits;
  }
  float* row = scratch<float, 0>(src.width + 2 * V::N);  // a source row, padded for the two loads
  std::fill(row + src.width, row + src.width + 2 * V::N, 0.0f);
  float* rows = scratch<float, 1>(src.height * cx.padded_out);
  for (int64_t r = 0; r < src.height; ++r) {
    const float* in = src.data + r * src.row_stride;
    std::memcpy(row, in, src.width * sizeof(float));
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t x = b * V::N;
      const F head = V::load(row + base[b]), next = V::load(row + base[b] + V::N);
      // One tap loop per way of fetching the values, so the choice is not made again for every tap.
      auto weighted_sum = [&](auto value_at) {
        F acc = V::zero();
        for (int64_t k = 0; k < cx.taps; ++k) {
          const int64_t entry = k * cx.padded_out + x;
          acc = V::add(acc, V::mul(V::load(cx.weights.data() + entry), value_at(entry)));
        }
        return acc;
      };
      const F acc = permutable[b] ? weighted_sum([&](int64_t e) { return V::permute2(head, next, V::load_i32(relative.data() + e)); })
                                  : weighted_sum([&](int64_t e) { return V::gather(in, V::load_i32(cx.index.data() + e)); });
      V::store(rows + r * cx.padded_out + x, V::mul(V::sub(acc, V::set1(lo)), V::set1(scale)));
    }
  }
  // Weights and row pointers are hoisted out of the pixel loop: the uint8 stores may alias
  // anything, so the compiler would otherwise reload them for every vector.
  std::vector<F> weights(cy.taps);
  std::vector<const float*> taps(cy.taps);
  for (int64_t y = 0; y < dst.height; ++y) {
    const int64_t count = cy.count[y];
    for (int64_t k = 0; k < count; ++k) {
      weights[k] = V::set1(cy.weights[k * cy.padded_out + y]);
      taps[k] = rows + (cy.start[y] + k) * cx.padded_out;
    }
    uint8_t* out = dst.data + y * dst.row_stride;
    const F* w = weights.data();
    const float* const* t = taps.data();
    // Four vectors at a time: four independent sums hide the latency of each one's chain of adds.
    int64_t x = 0;
    for (; x + 4 * V::N <= dst.width; x += 4 * V::N) {
      F acc[4] = {V::zero(), V::zero(), V::zero(), V::zero()};
      for (int64_t k = 0; k < count; ++k) {
        for (int i = 0; i < 4; ++i) acc[i] = V::add(acc[i], V::mul(w[k], V::load(t[k] + x + i * V::N)));
      }
      for (int i = 0; i < 4; ++i) V::store_u8(out + x + i * V::N, acc[i]);
    }
    vector_loop<V::N>(dst.width - x, [&](auto tail, int64_t i, int64_t n) {
      F acc = V::zero();
      for (int64_t k = 0; k < count; ++k) acc = V::add(acc, V::mul(w[k], V::load(t[k] + x + i)));
      store_u8<V>(out + x + i, acc, n, tail);
    });
  }
}

}  // namespace
}  // namespace cleancut
