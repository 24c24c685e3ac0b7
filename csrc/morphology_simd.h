// SIMD row combine for the shared erode/dilate algorithm (morphology_impl.h).
#pragma once
#include "morphology_impl.h"
#include "simd_loop.h"

namespace cleancut {
namespace {

template <class V>
struct SimdRows {
  static constexpr int64_t kStripRows = V::NB;  // one vector per transposed column

  static void combine(MorphOp op, const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n) {
    vector_loop<V::NB>(n, [&](auto tail, int64_t i, int64_t count) {
      const auto va = load_bytes<V>(a + i, count, tail), vb = load_bytes<V>(b + i, count, tail);
      store_bytes<V>(out + i, op == MorphOp::erode ? V::min_u8(va, vb) : V::max_u8(va, vb), count, tail);
    });
  }

  // NB x NB blocks; edges byte by byte.
  static void transpose(const uint8_t* src, int64_t src_stride, uint8_t* dst, int64_t dst_stride, int64_t rows,
                        int64_t cols) {
    constexpr int64_t n = V::NB;
    const int64_t block_rows = rows / n * n, block_cols = cols / n * n;
    for (int64_t y = 0; y < block_rows; y += n) {
      for (int64_t c = 0; c < block_cols; c += n) {
        transpose_block(src + y * src_stride + c, src_stride, dst + c * dst_stride + y, dst_stride);
      }
    }
    transpose_bytes(src, src_stride, dst, dst_stride, 0, rows, block_cols, cols);
    transpose_bytes(src, src_stride, dst, dst_stride, block_rows, rows, 0, block_cols);
  }

  static void interleave(const typename V::B (&from)[16], typename V::B (&to)[16]) {
    for (int i = 0; i < 8; ++i) {
      to[2 * i] = V::zip_lo_u8(from[i], from[i + 8]);
      to[2 * i + 1] = V::zip_hi_u8(from[i], from[i + 8]);
    }
  }

  // Tiles of 16 rows: four rounds of byte interleaves within each 16-byte lane (each round rotates
  // the 8-bit row:column index of every byte left by one, so four swap them) leave the transposed
  // 16x16 blocks in the lanes.
  static void transpose_block(const uint8_t* in, int64_t in_stride, uint8_t* out, int64_t out_stride) {
    constexpr int64_t n = V::NB;
    for (int64_t y = 0; y < n; y += 16) {
      typename V::B a[16], b[16];
      for (int i = 0; i < 16; ++i) a[i] = V::load_bytes(in + (y + i) * in_stride);
      interleave(a, b);
      interleave(b, a);
      interleave(a, b);
      interleave(b, a);
      for (int i = 0; i < 16; ++i) {
        uint8_t* lanes[n / 16];
        for (int lane = 0; lane < n / 16; ++lane) lanes[lane] = out + (16 * lane + i) * out_stride + y;
        V::store_lanes16(lanes, a[i]);
      }
    }
  }
};

}  // namespace
}  // namespace cleancut
