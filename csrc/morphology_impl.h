// Grey-level erode/dilate, shared by every ISA. The only per-pixel work is combining two rows
// element-wise (`Rows::combine`), which each ISA supplies; everything else is bookkeeping.
//
// Both shapes stream through the image a few rows at a time, so no full-size temporary is made
// and the rows being combined stay in cache.
// Square: a window along each row by doubling shifted spans (log2(2r+1) + 1 combines per pixel, on
// contiguous memory), then van Herk / Gil-Werman down the columns (3 combines per pixel whatever
// the radius), block by block of 2r+1 rows. Along a row van Herk's running scans are sequential, so
// SIMD would need a transpose (a first transposing version took 21 ms at 2048²); doubling took
// 0.5 ms at r = 3 and 1.5 ms at the largest radius allowed, 1024 (2048², AVX-512).
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

namespace cleancut {
namespace {

template <class Rows>
struct Morphology {
  MorphOp op;
  ImageU8 src;
  MutImageU8 dst;
  int64_t r;

  uint8_t neutral() const { return op == MorphOp::erode ? 255 : 0; }
  void combine(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n) const { Rows::combine(op, a, b, out, n); }
  const uint8_t* src_row(int64_t y) const { return src.data + y * src.row_stride; }
  uint8_t* dst_row(int64_t y) const { return dst.data + y * dst.row_stride; }

  // out[x] = op over in[x - half .. x + half]; `scratch` holds w + 2 * half bytes.
  void row_window(const uint8_t* in, int64_t half, uint8_t* out, uint8_t* scratch) const {
    const int64_t w = src.width;
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
    // w + 2 half (at r = 1024 on a 2048-wide row that halved the work).
    for (; span * 2 <= window; span *= 2) {
      const int64_t first = std::max<int64_t>(0, half - 2 * span + 1), end = std::min(half + w, padded - span);
      combine(spans + first, spans + first + span, spans + first, end - first);
    }
    combine(spans, spans + (window - span), out, w);
  }

  // Padded rows i = 0 .. h + 2r - 1 are image rows i - r (neutral outside); block b is padded rows
  // [b k, b k + k), k = 2r + 1. Writes the row windows of block b into `rows`; returns its row count.
  int64_t load_block(int64_t b, uint8_t* rows, uint8_t* scratch) const {
    const int64_t w = src.width, k = 2 * r + 1, padded = src.height + 2 * r;
    int64_t j = 0;
    for (; j < k && b * k + j < padded; ++j) {
      const int64_t y = b * k + j - r;
      if (y < 0 || y >= src.height) std::memset(rows + j * w, neutral(), w);
      else row_window(src_row(y), r, rows + j * w, scratch);
    }
    return j;
  }

  // Output row y = op over padded rows [y, y + 2r] = suffix(y) (to the end of y's block) combined
  // with prefix(y + 2r) (from the start of the next block); only two blocks are held at once.
  void square() const {
    const int64_t h = src.height, w = src.width, k = 2 * r + 1;
    const int64_t held = std::min(k, h + 2 * r);
    std::vector<uint8_t> scratch(w + 2 * r), store(3 * held * w);
    uint8_t *current = store.data(), *next = current + held * w, *prefix = next + held * w;
    int64_t count = load_block(0, current, scratch.data());
    for (int64_t b = 0; b * k < h; ++b) {
      for (int64_t j = count - 2; j >= 0; --j) combine(current + j * w, current + (j + 1) * w, current + j * w, w);
      const int64_t next_count = load_block(b + 1, next, scratch.data());
      if (next_count > 0) std::memcpy(prefix, next, w);
      for (int64_t j = 1; j < next_count; ++j) combine(prefix + (j - 1) * w, next + j * w, prefix + j * w, w);
      for (int64_t j = 0; j < k && b * k + j < h; ++j) {
        if (j == 0) std::memcpy(dst_row(b * k), current, w);  // the whole block is the window
        else combine(current + j * w, prefix + (j - 1) * w, dst_row(b * k + j), w);
      }
      std::swap(current, next);
      count = next_count;
    }
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
    std::vector<uint8_t> scratch(w + 2 * r), windows((std::min(band, h) + 2 * r) * w);
    for (int64_t top = 0; top < h; top += band) {
      const int64_t bottom = std::min(h, top + band), first = std::max<int64_t>(0, top - r), last = std::min(h, bottom + r);
      for (int64_t y = top; y < bottom; ++y) std::memset(dst_row(y), neutral(), w);
      for (int64_t half = 0; half <= r; ++half) {
        if (offsets[half].empty()) continue;
        for (int64_t y = first; y < last; ++y) row_window(src_row(y), half, &windows[(y - first) * w], scratch.data());
        for (int64_t y = top; y < bottom; ++y) {
          for (int64_t dy : offsets[half]) {
            if (y + dy >= 0 && y + dy < h) combine(dst_row(y), &windows[(y + dy - first) * w], dst_row(y), w);
          }
        }
      }
    }
  }

  void run(MorphShape shape) const { shape == MorphShape::square ? square() : disk(); }
};

}  // namespace
}  // namespace cleancut
