// Grey-level erode/dilate, shared by every ISA. The only per-pixel work is combining two rows
// element-wise (`Rows::combine`), which each ISA supplies; everything else is bookkeeping.
//
// Square: van Herk / Gil-Werman down the columns (3 row combines per pixel whatever the radius),
// then along each row by doubling shifted windows (log2(2r+1) + 1 combines per pixel, all on
// contiguous memory). Disk: for each row offset dy the disk is a horizontal run of half-width
// floor(sqrt(r^2 - dy^2)); one row pass per distinct half-width, then a max/min over the 2r+1
// shifted rows. Pixels outside the image never win (scipy/skimage 'reflect' and OpenCV's default
// border give the same result).
#pragma once
#include <cstring>
#include <vector>

#include "kernels.h"

namespace cleancut {
namespace {

template <class Rows>
struct Morphology {
  MorphOp op;

  uint8_t neutral() const { return op == MorphOp::erode ? 255 : 0; }
  void combine(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n) const { Rows::combine(op, a, b, out, n); }

  // out[x] = op over in[x - r .. x + r]; `scratch` holds 2 * (w + 2r) bytes.
  void row_window(const uint8_t* in, int64_t w, int64_t r, uint8_t* out, uint8_t* scratch) const {
    if (r == 0) {
      std::memcpy(out, in, w);
      return;
    }
    const int64_t padded = w + 2 * r, window = 2 * r + 1;
    uint8_t* span_min = scratch;  // span_min[i] = op over padded[i .. i + span)
    uint8_t* next = scratch + padded;
    std::memset(span_min, neutral(), r);
    std::memcpy(span_min + r, in, w);
    std::memset(span_min + r + w, neutral(), r);
    int64_t span = 1;
    for (; span * 2 <= window; span *= 2) {
      combine(span_min, span_min + span, next, padded - span);
      std::memcpy(span_min, next, padded - span);
    }
    combine(span_min, span_min + (window - span), out, w);
  }

  // out row y = op over rows [y - r, y + r] (rows outside the image ignored); van Herk.
  void columns(const std::vector<const uint8_t*>& in, int64_t w, int64_t r, std::vector<uint8_t*>& out) const {
    const int64_t h = static_cast<int64_t>(in.size()), block = 2 * r + 1, padded = h + 2 * r;
    const std::vector<uint8_t> fill(w, neutral());
    auto source = [&](int64_t i) { return (i < r || i >= h + r) ? fill.data() : in[i - r]; };
    std::vector<uint8_t> prefix(padded * w), suffix(padded * w);
    for (int64_t i = 0; i < padded; ++i) {
      if (i % block == 0) std::memcpy(&prefix[i * w], source(i), w);
      else combine(&prefix[(i - 1) * w], source(i), &prefix[i * w], w);
    }
    for (int64_t i = padded - 1; i >= 0; --i) {
      if (i % block == block - 1 || i == padded - 1) std::memcpy(&suffix[i * w], source(i), w);
      else combine(&suffix[(i + 1) * w], source(i), &suffix[i * w], w);
    }
    for (int64_t y = 0; y < h; ++y) combine(&suffix[y * w], &prefix[(y + 2 * r) * w], out[y], w);
  }

  void run(ImageU8 src, MutImageU8 dst, MorphShape shape, int64_t r) const {
    const int64_t h = src.height, w = src.width;
    std::vector<uint8_t> scratch(2 * (w + 2 * r));
    std::vector<const uint8_t*> src_rows(h);
    std::vector<uint8_t*> dst_rows(h);
    for (int64_t y = 0; y < h; ++y) {
      src_rows[y] = src.data + y * src.row_stride;
      dst_rows[y] = dst.data + y * dst.row_stride;
    }
    if (shape == MorphShape::square) {
      std::vector<uint8_t> horizontal(h * w);
      std::vector<const uint8_t*> rows(h);
      for (int64_t y = 0; y < h; ++y) {
        row_window(src_rows[y], w, r, &horizontal[y * w], scratch.data());
        rows[y] = &horizontal[y * w];
      }
      columns(rows, w, r, dst_rows);
      return;
    }
    std::vector<int64_t> half_width(2 * r + 1);
    for (int64_t dy = -r; dy <= r; ++dy) {
      int64_t hw = 0;
      while ((hw + 1) * (hw + 1) + dy * dy <= r * r) ++hw;
      half_width[dy + r] = hw;
    }
    std::vector<uint8_t> out(h * w, neutral()), horizontal(h * w);
    for (int64_t hw = 0; hw <= r; ++hw) {
      bool used = false;
      for (int64_t v : half_width) used |= v == hw;
      if (!used) continue;
      for (int64_t y = 0; y < h; ++y) row_window(src_rows[y], w, hw, &horizontal[y * w], scratch.data());
      for (int64_t dy = -r; dy <= r; ++dy) {
        if (half_width[dy + r] != hw) continue;
        for (int64_t y = 0; y < h; ++y) {
          if (y + dy >= 0 && y + dy < h) combine(&out[y * w], &horizontal[(y + dy) * w], &out[y * w], w);
        }
      }
    }
    for (int64_t y = 0; y < h; ++y) std::memcpy(dst_rows[y], &out[y * w], w);
  }
};

}  // namespace
}  // namespace cleancut
