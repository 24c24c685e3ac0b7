// SIMD Gaussian, templated on an ISA's Vec; same arithmetic (mirrored taps paired), in the same
// order, as blur_base.cpp.
#pragma once
#include <algorithm>
#include <vector>

#include "gaussian_weights.h"
#include "kernels.h"
#include "scalar_ops.h"
#include "scratch.h"
#include "simd_loop.h"

namespace cleancut {
namespace {

template <class V>
void gaussian_blur_simd(ImageU8 src, MutImageU8 dst, float sigma, int radius) {
  using F = typename V::F;
  const std::vector<float> weights = gaussian_weights(sigma, radius);
  const int64_t h = src.height, w = src.width, taps = 2 * radius + 1;
  float* column = scratch<float, 0>(w + V::N);
  float* padded = scratch<float, 1>(w + 2 * radius + V::N);
  std::vector<const uint8_t*> rows(taps);
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t k = 0; k < taps; ++k) rows[k] = src.data + reflect_index(y + k - radius, h) * src.row_stride;
    vector_loop<V::N>(w, [&](auto tail, int64_t x, int64_t count) {
      F acc = V::mul(V::set1(weights[radius]), load_u8<V>(rows[radius] + x, count, tail));
      for (int64_t k = 0; k < radius; ++k) {
        const auto pair = V::add_i32(load_u8_i32<V>(rows[k] + x, count, tail), load_u8_i32<V>(rows[taps - 1 - k] + x, count, tail));
        acc = V::add(acc, V::mul(V::set1(weights[k]), V::to_f32(pair)));
      }
      V::store(column + x, acc);
    });
    // The row, then its reflected borders (the only places that need the index arithmetic).
    std::copy(column + 0, column + w, padded + radius);
    for (int64_t i = 0; i < radius; ++i) {
      padded[i] = column[reflect_index(i - radius, w)];
      padded[radius + w + i] = column[reflect_index(w + i, w)];
    }
    uint8_t* out = dst.data + y * dst.row_stride;
    vector_loop<V::N>(w, [&](auto tail, int64_t x, int64_t count) {
      F acc = V::mul(V::set1(weights[radius]), V::load(padded + x + radius));
      for (int64_t k = 0; k < radius; ++k) {
        acc = V::add(acc, V::mul(V::set1(weights[k]), V::add(V::load(padded + x + k), V::load(padded + x + taps - 1 - k))));
      }
      store_u8<V>(out + x, acc, count, tail);
    });
  }
}

}  // namespace
}  // namespace cleancut
