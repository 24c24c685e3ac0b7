// SIMD prepare, templated on an ISA's Vec; the same integer arithmetic as prepare_base.cpp,
// so bit-identical.
#pragma once
#include <vector>

#include "prepare_common.h"
#include "simd_loop.h"

namespace cleancut {
namespace {

template <class V>
typename V::I clip8_lanes(typename V::I sum) {
  return V::min_i32(V::max_i32(V::template sar_i32<kFixedPointBits>(sum), V::set1_i32(0)), V::set1_i32(255));
}

template <class V>
void prepare_simd(ImageU8 src, float* dst, int64_t out_h, int64_t out_w, const Normalisation& norm) {
  using F = typename V::F;
  using I = typename V::I;
  const ResampleCoeffs cy = lanczos_coeffs(src.height, out_h);
  const ResampleCoeffs cx = lanczos_coeffs(src.width, out_w);
  const RowSpan span = rows_used(cy);
  const int64_t plane = out_h * out_w, rows = span.last - span.first;
  // Rows of the intermediate are padded so full-vector loads stay inside it.
  const int64_t stride = cx.padded_out;

  // Horizontal pass as one dot product per output over contiguous taps: each source row is split
  // into int32 channel planes, and each output's weights are laid out x-major, zero-padded to
  // whole vectors (integer sums are exact in any order, so this equals the scalar tap loop).
  const int64_t taps = (cx.taps + V::N - 1) / V::N * V::N;
  std::vector<int32_t> weights(out_w * taps, 0);
  for (int64_t x = 0; x < out_w; ++x) {
    for (int64_t k = 0; k < cx.count[x]; ++k) weights[x * taps + k] = cx.fixed[k * cx.padded_out + x];
  }
  const int64_t plane_len = src.width + taps;
  std::vector<int32_t> planes(3 * plane_len, 0);
  std::vector<uint8_t> horizontal(3 * rows * stride + V::NB, 0);
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* in = src.data + (span.first + r) * src.row_stride;
    for (int64_t i = 0; i < src.width; ++i) {
      for (int64_t c = 0; c < 3; ++c) planes[c * plane_len + i] = in[i * src.channels + c];
    }
    for (int64_t c = 0; c < 3; ++c) {
      const int32_t* plane = planes.data() + c * plane_len;
      uint8_t* out = horizontal.data() + (c * rows + r) * stride;
      for (int64_t x = 0; x < out_w; ++x) {
        const int32_t* w = weights.data() + x * taps;
        const int32_t* p = plane + cx.start[x];
        I sum = V::mul_i32(V::load_i32(w), V::load_i32(p));
        for (int64_t k = V::N; k < taps; k += V::N) sum = V::add_i32(sum, V::mul_i32(V::load_i32(w + k), V::load_i32(p + k)));
        out[x] = clip8(V::reduce_add_i32(sum) + kFixedPointHalf);
      }
    }
  }

  F image_max = V::zero();
  for (int64_t c = 0; c < 3; ++c) {
    for (int64_t y = 0; y < out_h; ++y) {
      float* out = dst + c * plane + y * out_w;
      const uint8_t* first_row = horizontal.data() + (c * rows + cy.start[y] - span.first) * stride;
      vector_loop<V::N>(out_w, [&](auto tail, int64_t x, int64_t count) {
        I sum = V::set1_i32(kFixedPointHalf);
        for (int64_t k = 0; k < cy.count[y]; ++k) {
          sum = V::add_i32(sum, V::mul_i32(V::set1_i32(cy.fixed[k * cy.padded_out + y]), V::load_u8_i32(first_row + k * stride + x)));
        }
        const F value = V::to_f32(clip8_lanes<V>(sum));
        image_max = V::max(image_max, value);  // lanes past out_w read the zero padding
        store_f32<V>(out + x, value, count, tail);
      });
    }
  }

  const ChannelAffine affine = normalise_affine(V::reduce_max(image_max), norm);
  for (int64_t c = 0; c < 3; ++c) {
    float* out = dst + c * plane;
    const F scale = V::set1(affine.scale[c]), offset = V::set1(affine.offset[c]);
    vector_loop<V::N>(plane, [&](auto tail, int64_t i, int64_t count) {
      store_f32<V>(out + i, V::add(V::mul(load_f32<V>(out + i, count, 0.0f, tail), scale), offset), count, tail);
    });
  }
}

}  // namespace
}  // namespace cleancut
