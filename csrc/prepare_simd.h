// SIMD prepare, templated on an ISA's Vec; same arithmetic, in the same order, as prepare_base.cpp.
#pragma once
#include <algorithm>
#include <vector>

#include "prepare_common.h"
#include "resample_coeffs.h"
#include "simd_loop.h"

namespace cleancut {
namespace {

template <class V>
void prepare_simd(ImageU8 src, float* dst, int64_t out_h, int64_t out_w, const Normalisation& norm) {
  using F = typename V::F;
  const ResampleCoeffs cy = lanczos_coeffs(src.height, out_h);
  const ResampleCoeffs cx = lanczos_coeffs(src.width, out_w);
  const int64_t row_len = src.width * src.channels;
  const int64_t plane = out_h * out_w;
  std::vector<float> column_sums(row_len + V::N);
  F image_max = V::zero();

  // Gather indices into the interleaved column sums, per tap and channel.
  std::vector<int32_t> gather_index(cx.index.size() * 3);
  for (size_t i = 0; i < cx.index.size(); ++i) {
    for (int32_t c = 0; c < 3; ++c) gather_index[c * cx.index.size() + i] = cx.index[i] * int32_t(src.channels) + c;
  }

  for (int64_t y = 0; y < out_h; ++y) {
    vector_loop<V::N>(row_len, [&](auto tail, int64_t j, int64_t count) {
      F acc = V::zero();
      for (int64_t k = 0; k < cy.count[y]; ++k) {
        const uint8_t* row = src.data + (cy.start[y] + k) * src.row_stride;
        acc = V::add(acc, V::mul(V::set1(cy.weights[k * cy.padded_out + y]), load_u8<V>(row + j, count, tail)));
      }
      V::store(column_sums.data() + j, acc);
    });
    for (int64_t c = 0; c < 3; ++c) {
      float* out = dst + c * plane + y * out_w;
      const int32_t* index = gather_index.data() + c * cx.index.size();
      vector_loop<V::N>(out_w, [&](auto tail, int64_t x, int64_t count) {
        F acc = V::zero();
        for (int64_t k = 0; k < cx.taps; ++k) {
          const int64_t entry = k * cx.padded_out + x;
          acc = V::add(acc, V::mul(V::load(cx.weights.data() + entry),
                                   V::gather(column_sums.data(), V::load_i32(index + entry))));
        }
        acc = V::min(V::max(acc, V::zero()), V::set1(255.0f));
        // Lanes past out_w hold clamped zeros (zero weights), which cannot raise the max.
        image_max = V::max(image_max, acc);
        store_f32<V>(out + x, acc, count, tail);
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
