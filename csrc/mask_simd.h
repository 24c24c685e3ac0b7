// SIMD mask upsample, templated on an ISA's Vec; same arithmetic, in the same order, as mask_base.cpp.
#pragma once
#include <vector>

#include "kernels.h"
#include "resample_coeffs.h"
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
  const ResampleCoeffs cx = lanczos_coeffs(src.width, dst.width);
  const ResampleCoeffs cy = lanczos_coeffs(src.height, dst.height);

  // Full vectors across the padded width: padded lanes have zero weights and in-range indices.
  std::vector<float> rows(src.height * cx.padded_out);
  for (int64_t r = 0; r < src.height; ++r) {
    const float* in = src.data + r * src.row_stride;
    for (int64_t x = 0; x < cx.padded_out; x += V::N) {
      F acc = V::zero();
      for (int64_t k = 0; k < cx.taps; ++k) {
        const int64_t entry = k * cx.padded_out + x;
        acc = V::add(acc, V::mul(V::load(cx.weights.data() + entry), V::gather(in, V::load_i32(cx.index.data() + entry))));
      }
      V::store(rows.data() + r * cx.padded_out + x, V::mul(V::sub(acc, V::set1(lo)), V::set1(scale)));
    }
  }
  for (int64_t y = 0; y < dst.height; ++y) {
    uint8_t* out = dst.data + y * dst.row_stride;
    vector_loop<V::N>(dst.width, [&](auto tail, int64_t x, int64_t count) {
      F acc = V::zero();
      for (int64_t k = 0; k < cy.count[y]; ++k) {
        acc = V::add(acc, V::mul(V::set1(cy.weights[k * cy.padded_out + y]),
                                 V::load(rows.data() + (cy.start[y] + k) * cx.padded_out + x)));
      }
      store_u8<V>(out + x, acc, count, tail);
    });
  }
}

}  // namespace
}  // namespace cleancut
