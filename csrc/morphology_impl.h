// Grey-level erode/dilate, shared by every ISA. The per-pixel work is combining two rows
// element-wise (`Rows::combine`) and transposing byte tiles (`Rows::transpose`), which each ISA
// supplies; everything else is bookkeeping.
//
// Square: separable. Down the columns van Herk / Gil-Werman (3 combines per pixel whatever the
// radius), block by block of 2r+1 rows, streaming a block at a time so no full-size temporary is
// made. Along a row van Herk's running scans are sequential, so the rows are transposed: each strip
// of Rows::kStripRows rows, as soon as the column pass has made it, becomes one vector per column
// in a cache-resident buffer, goes through the same column pass and is transposed back: cost
// independent of r. Small radii instead double shifted spans along the rows (log2(2r+1) + 1
// combines per pixel, fused into the column pass), cheaper than two transposes up to
// kDoublingRadius (2048², AVX-512: r = 64 0.62 ms by doubling, the transposing path 0.72 ms at
// r = 65 and 0.77 ms at r = 1024, where doubling took 1.2-1.4 ms).
// Radii past the image are clamped: a window wider than the image covers all of it from any pixel.
// Disk: for each row offset dy the disk is a horizontal run of half-width floor(sqrt(r^2 - dy^2));
// one row window per distinct half-width, then a max/min over the 2r+1 shifted rows, in bands.
// Pixels outside the image never win (scipy/skimage 'reflect' and OpenCV's default border give the
// same result).
#pragma once
#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels.h"
#include "scratch.h"

namespace cleancut {
namespace {

// dst[c * dst_stride + y] = src[y * src_stride + c] for y in [y0, y1), c in [c0, c1).
inline void transpose_bytes(const uint8_t* src, int64_t src_stride, uint8_t* dst, int64_t dst_stride, int64_t y0,
                            int64_t y1, int64_t c0, int64_t c1) {
  for (int64_t y = y0; y < y1; ++y) {
    for (int64_t c = c0; c < c1; ++c) dst[c * dst_stride + y] = src[y * src_stride + c];
  }
}

template <class Rows>
struct Morphology {
  static constexpr int64_t kDoublingRadius = 64;

  MorphOp op;
  ImageU8 src;
  MutImageU8 dst;
  int64_t r;

  uint8_t neutral() const { return op == MorphOp::erode ? 255 : 0; }
  void combine(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n) const { Rows::combine(op, a, b, out, n); }
  const uint8_t* src_row(int64_t y) const { return src.data + y * src.row_stride; }
  uint8_t* dst_row(int64_t y) const { return dst.data + y * dst.row_stride; }

  // out[x] = op over in[x - half .. x + half], x < w; `scratch` holds w + 2 * half bytes.
  void row_window(const uint8_t* in, int64_t w, int64_t half, uint8_t* out, uint8_t* scratch) const {
    if (half == 0) {
      std::memcpy(out, in, w);
      return;
    }
    const int64_t padded = w + 2 * half, window = 2 * half + 1;
    uint8_t* spans = scratch;  // after each doubling, spans[i] = op over padded[i .. i + span)
    std::memset(spans, neutral(), half);
    std::memcpy(spans + half, in, w);
    std::memset(spans + half + w, neutral(), half);
    int64_t span = 1;
    // In place: each step reads spans[i + span] before any write reaches it. Spans lying wholly in
    // the neutral margins stay neutral, so each step combines only w + 2 span - 1 of them, not all
    // w + 2 half.
    for (; span * 2 <= window; span *= 2) {
      const int64_t first = std::max<int64_t>(0, half - 2 * span + 1), end = std::min(half + w, padded - span);
      combine(spans + first, spans + first + span, spans + first, end - first);
    }
    combine(spans, spans + (window - span), out, w);
  }

  // Blocks of k = 2r + 1 rows from row 0: block b is rows [b k, b k + k) of `in`. Out row y covers
  // rows [y - r, y + r]: the suffix of row y - r in its block (b) combined with the prefix of row
  // y + r in the next (b + 1), which is kept as one running row. Rows outside the image never win,
  // so none is made: above row 0 the suffix is empty (block -1), past the last row the prefix stops.
  // Input rows are read in place, or, with row_half > 0, their row windows are made a block at a
  // time into `windows`. Out rows are made in order; `row_done(y)` follows each. `kSlots` numbers
  // its scratch buffers: a pass run from inside `row_done` needs others than the one calling it.
  template <int kSlots, class RowDone>
  void columns(ImageU8 in, MutImageU8 out, int64_t r, int64_t row_half, RowDone row_done) const {
    const int64_t h = in.height, w = in.width, k = 2 * r + 1, held = std::min(k, h);
    uint8_t* row_scratch = scratch<uint8_t, kSlots>(row_half > 0 ? w + 2 * row_half : 0);
    uint8_t* windows = scratch<uint8_t, kSlots + 1>(row_half > 0 ? held * w : 0);
    uint8_t* suffix = scratch<uint8_t, kSlots + 2>(held * w);
    uint8_t* prefix = scratch<uint8_t, kSlots + 3>(w);
    auto out_row = [&](int64_t y) { return out.data + y * out.row_stride; };
    for (int64_t b = -1; b * k + r < h; ++b) {
      const int64_t first = (b + 1) * k, count = std::clamp<int64_t>(h - first, 0, k);  // rows of block b + 1
      const uint8_t* rows = in.data + first * in.row_stride;
      int64_t stride = in.row_stride;
      if (row_half > 0) {
        for (int64_t j = 0; j < count; ++j) row_window(rows + j * stride, w, row_half, windows + j * w, row_scratch);
        rows = windows;
        stride = w;
      }
      if (count > 0) std::memcpy(prefix, rows, w);
      for (int64_t j = 0; j < k && b * k + r + j < h; ++j) {
        const int64_t y = b * k + r + j;  // y - r is row j of block b, y + r row j - 1 of block b + 1
        if (j >= 2 && j - 1 < count) combine(prefix, rows + (j - 1) * stride, prefix, w);
        if (y < 0) continue;
        if (j == 0 || count == 0) std::memcpy(out_row(y), suffix + j * w, w);  // all in block b
        else if (b < 0) std::memcpy(out_row(y), prefix, w);
        else combine(suffix + j * w, prefix, out_row(y), w);
        row_done(y);
      }
      if (count > 0) std::memcpy(suffix + (count - 1) * w, rows + (count - 1) * stride, w);
      for (int64_t j = count - 2; j >= 0; --j) combine(rows + j * stride, suffix + (j + 1) * w, suffix + j * w, w);
    }
  }

  // The same pass along rows [top, top + n) of `dst`: their columns become the rows of `across`
  // (s bytes each, one per row of the strip). The way back goes through `staged`, whose row stride
  // is not a power of two: 16-byte pieces written straight to 2048-byte image rows all fell into two
  // L1 sets (2048² took 0.9 ms against 0.6 ms at width 2064).
  void rows_by_transpose(int64_t top, int64_t n, int64_t r) const {
    const int64_t s = Rows::kStripRows, w = dst.width, staged_stride = w + 64;
    uint8_t *across = scratch<uint8_t, 8>(w * s), *done = scratch<uint8_t, 9>(w * s);
    uint8_t* staged = scratch<uint8_t, 10>(staged_stride * s);
    Rows::transpose(dst_row(top), dst.row_stride, across, s, n, w);
    columns<4>(ImageU8{across, w, s, 1, s}, MutImageU8{done, w, s, 1, s}, r, 0, [](int64_t) {});
    Rows::transpose(done, s, staged, staged_stride, w, n);
    for (int64_t i = 0; i < n; ++i) std::memcpy(dst_row(top + i), staged + i * staged_stride, w);
  }

  void square() const {
    const int64_t h = src.height, row_r = std::min(r, src.width - 1), column_r = std::min(r, h - 1);
    if (row_r <= kDoublingRadius) {
      columns<0>(src, dst, column_r, row_r, [](int64_t) {});
      return;
    }
    // Each strip of rows goes along the rows as soon as the column pass has made it, still in cache.
    const int64_t s = Rows::kStripRows;
    columns<0>(src, dst, column_r, 0, [&](int64_t y) {
      if ((y + 1) % s == 0 || y + 1 == h) rows_by_transpose(y / s * s, y % s + 1, row_r);
    });
  }

  // Output bands of rows; each band keeps the row windows of its rows +- r for one half-width at a
  // time (bands of >= 8r rows, so recomputing the 2r overlapping rows costs at most a quarter more).
  void disk() const {
    const int64_t h = src.height, w = src.width, band = std::max<int64_t>(64, 8 * r);
    std::vector<std::vector<int64_t>> offsets(r + 1);  // offsets[half] = the dy whose run has that half-width
    for (int64_t dy = -r; dy <= r; ++dy) {
      int64_t half = 0;
      while ((half + 1) * (half + 1) + dy * dy <= r * r) ++half;
      offsets[half].push_back(dy);
    }
    uint8_t* row_scratch = scratch<uint8_t, 0>(w + 2 * r);
    uint8_t* windows = scratch<uint8_t, 1>((std::min(band, h) + 2 * r) * w);
    for (int64_t top = 0; top < h; top += band) {
      const int64_t bottom = std::min(h, top + band), first = std::max<int64_t>(0, top - r), last = std::min(h, bottom + r);
      // Only the run of dy = 0 is r wide: its windows are written straight to the out rows.
      for (int64_t y = top; y < bottom; ++y) row_window(src_row(y), w, r, dst_row(y), row_scratch);
      for (int64_t half = 0; half < r; ++half) {
        if (offsets[half].empty()) continue;
        const uint8_t* rows = src_row(first);  // a run of half-width 0 is the source row itself
        int64_t stride = src.row_stride;
        if (half > 0) {
          for (int64_t y = first; y < last; ++y) row_window(src_row(y), w, half, windows + (y - first) * w, row_scratch);
          rows = windows;
          stride = w;
        }
        for (int64_t y = top; y < bottom; ++y) {
          for (int64_t dy : offsets[half]) {
            if (y + dy >= 0 && y + dy < h) combine(dst_row(y), rows + (y + dy - first) * stride, dst_row(y), w);
          }
        }
      }
    }
  }

  void run(MorphShape shape) const { shape == MorphShape::square ? square() : disk(); }
};

}  // namespace
}  // namespace cleancut
