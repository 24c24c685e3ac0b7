// SIMD prepare, templated on an ISA's Vec; the same integer arithmetic as prepare_base.cpp,
// so bit-identical.
#pragma once
#include <cstring>
#include <vector>

#include "prepare_common.h"
#include "scratch.h"
#include "simd_loop.h"

namespace cleancut {
namespace {

template <class V>
typename V::I clip8_lanes(typename V::I sum) {
  return V::min_i32(V::max_i32(V::template sar_i32<kFixedPointBits>(sum), V::set1_i32(0)), V::set1_i32(255));
}

template <class V>
float prepare_rows_simd(ImageU8 src, float* dst, int64_t out_h, int64_t out_w, int64_t y0, int64_t y1) {
  using F = typename V::F;
  using I = typename V::I;
  const PrepareTables tables(src, out_h, out_w, y0, y1);
  const ResampleCoeffs &cy = *tables.vertical, &cx = *tables.horizontal;
  const int64_t plane = out_h * out_w, rows = tables.rows, first_row = tables.first_row;
  // Rows of the intermediate are padded so full-vector loads stay inside it.
  const int64_t stride = cx.padded_out;

  // Horizontal pass with source rows in lanes: a strip of N rows is transposed into int32
  // columns (column i of channel c is N contiguous lanes), so each tap is one broadcast weight
  // times one contiguous load, with no gathers and no horizontal sums.
  int32_t* columns = scratch<int32_t, 0>(3 * src.width * V::N);
  uint8_t* horizontal = scratch<uint8_t, 1>(3 * rows * stride + V::NB);
  std::memset(horizontal, 0, 3 * rows * stride + V::NB);  // the padding lanes must read as zero
  alignas(64) int32_t lanes_out[V::N];
  const I byte = V::set1_i32(0xff);
  // A full RGB load reads kRgbOverread bytes past its pixels: keep full blocks that far from the row end.
  const int64_t guard = src.channels == 3 ? (V::kRgbOverread + 2) / 3 : 0;
  for (int64_t r0 = 0; r0 < rows; r0 += V::N) {
    const int64_t lanes = rows - r0 < V::N ? rows - r0 : V::N;
    const uint8_t* strip[V::N];  // lanes past the last row repeat its first row
    for (int64_t lane = 0; lane < V::N; ++lane) strip[lane] = src.data + (first_row + r0 + (lane < lanes ? lane : 0)) * src.row_stride;
    int64_t i = 0;
    for (; i + V::N + guard <= src.width; i += V::N) {
      I block[V::N];
      for (int64_t lane = 0; lane < V::N; ++lane) {
        block[lane] = src.channels == 3 ? V::load_rgb(strip[lane] + 3 * i) : V::load_rgba(strip[lane] + 4 * i);
      }
      V::transpose(block);  // block[j] = pixel i + j of every row, as 0xAABBGGRR
      for (int64_t j = 0; j < V::N; ++j) {
        V::store_i32(columns + (i + j) * V::N, V::and_i32(block[j], byte));
        V::store_i32(columns + (src.width + i + j) * V::N, V::and_i32(V::template shr_i32<8>(block[j]), byte));
        V::store_i32(columns + (2 * src.width + i + j) * V::N, V::and_i32(V::template shr_i32<16>(block[j]), byte));
      }
    }
    for (; i < src.width; ++i) {
      for (int64_t lane = 0; lane < V::N; ++lane) {
        for (int64_t c = 0; c < 3; ++c) columns[(c * src.width + i) * V::N + lane] = strip[lane][i * src.channels + c];
      }
    }
    for (int64_t c = 0; c < 3; ++c) {
      const int32_t* channel = columns + c * src.width * V::N;
      for (int64_t x = 0; x < out_w; ++x) {
        const int32_t* first = channel + cx.start[x] * V::N;
        I sum = V::set1_i32(kFixedPointHalf);
        for (int64_t k = 0; k < cx.count[x]; ++k) {
          sum = V::add_i32(sum, V::mul_i32(V::set1_i32(cx.fixed[k * cx.padded_out + x]), V::load_i32(first + k * V::N)));
        }
        V::store_i32(lanes_out, clip8_lanes<V>(sum));
        for (int64_t lane = 0; lane < lanes; ++lane) {
          horizontal[(c * rows + r0 + lane) * stride + x] = static_cast<uint8_t>(lanes_out[lane]);
        }
      }
    }
  }

  F image_max = V::zero();
  for (int64_t c = 0; c < 3; ++c) {
    for (int64_t y = y0; y < y1; ++y) {
      float* out = dst + c * plane + y * out_w;
      const uint8_t* taps = horizontal + (c * rows + cy.start[y] - first_row) * stride;
      vector_loop<V::N>(out_w, [&](auto tail, int64_t x, int64_t count) {
        I sum = V::set1_i32(kFixedPointHalf);
        for (int64_t k = 0; k < cy.count[y]; ++k) {
          sum = V::add_i32(sum, V::mul_i32(V::set1_i32(cy.fixed[k * cy.padded_out + y]), V::load_u8_i32(taps + k * stride + x)));
        }
        const F value = V::to_f32(clip8_lanes<V>(sum));
        image_max = V::max(image_max, value);  // lanes past out_w read the zero padding
        store_f32<V>(out + x, value, count, tail);
      });
    }
  }

  return V::reduce_max(image_max);
}

template <class V>
void normalise_simd(float* dst, int64_t plane, float image_max, const Normalisation& norm) {
  using F = typename V::F;
  const ChannelAffine affine = normalise_affine(image_max, norm);
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
