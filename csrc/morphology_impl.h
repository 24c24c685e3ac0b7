// Grey-level erode/dilate, shared by every ISA. The only per-pixel work is combining two rows
// element-wise (`Rows::combine`), which each ISA supplies; everything else is bookkeeping.
//
// Square: van Herk / Gil-Werman along columns (3 row combines per pixel whatever the radius),
// horizontal pass by transposing. Disk: for each row offset dy the disk is a horizontal run of
// half-width floor(sqrt(r^2 - dy^2)); one horizontal pass per distinct half-width, then a max/min
// over the 2r+1 shifted rows. Pixels outside the image never win (scipy/skimage 'reflect' and
// OpenCV's default border give the same result).
#pragma once
#include <cstring>
#include <vector>

#include "kernels.h"

namespace cleancut {
namespace {

struct Plane {
  int64_t height = 0, width = 0;
  std::vector<uint8_t> pixels;
  Plane(int64_t h, int64_t w) : height(h), width(w), pixels(h * w) {}
  uint8_t* row(int64_t y) { return pixels.data() + y * width; }
  const uint8_t* row(int64_t y) const { return pixels.data() + y * width; }
};

inline Plane transpose(const uint8_t* src, int64_t height, int64_t width, int64_t row_stride) {
  constexpr int64_t kBlock = 32;  // tiles keep both sides of the transpose in cache
  Plane out(width, height);
  for (int64_t y0 = 0; y0 < height; y0 += kBlock) {
    for (int64_t x0 = 0; x0 < width; x0 += kBlock) {
      const int64_t y1 = y0 + kBlock < height ? y0 + kBlock : height;
      const int64_t x1 = x0 + kBlock < width ? x0 + kBlock : width;
      for (int64_t y = y0; y < y1; ++y) {
        for (int64_t x = x0; x < x1; ++x) out.pixels[x * height + y] = src[y * row_stride + x];
      }
    }
  }
  return out;
}

template <class Rows>
struct Morphology {
  MorphOp op;

  void combine(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n) const { Rows::combine(op, a, b, out, n); }

  // out row y = op over src rows [y - r, y + r] (rows outside the image ignored); van Herk.
  void columns(const Plane& src, int64_t r, Plane& out) const {
    const int64_t h = src.height, w = src.width, block = 2 * r + 1, padded = h + 2 * r;
    const std::vector<uint8_t> neutral(w, op == MorphOp::erode ? 255 : 0);
    auto source = [&](int64_t i) { return (i < r || i >= h + r) ? neutral.data() : src.row(i - r); };
    Plane prefix(padded, w), suffix(padded, w);
    for (int64_t i = 0; i < padded; ++i) {
      if (i % block == 0) std::memcpy(prefix.row(i), source(i), w);
      else combine(prefix.row(i - 1), source(i), prefix.row(i), w);
    }
    for (int64_t i = padded - 1; i >= 0; --i) {
      if (i % block == block - 1 || i == padded - 1) std::memcpy(suffix.row(i), source(i), w);
      else combine(suffix.row(i + 1), source(i), suffix.row(i), w);
    }
    for (int64_t y = 0; y < h; ++y) combine(suffix.row(y), prefix.row(y + 2 * r), out.row(y), w);
  }

  // Horizontal window of half-width r, via the transposed image `t` (width x height).
  Plane rows_of(const Plane& t, int64_t r) const {
    Plane tr(t.height, t.width);
    columns(t, r, tr);
    return transpose(tr.pixels.data(), tr.height, tr.width, tr.width);
  }

  void run(ImageU8 src, MutImageU8 dst, MorphShape shape, int64_t r) const {
    const int64_t h = src.height, w = src.width;
    auto write = [&](const Plane& p) {
      for (int64_t y = 0; y < h; ++y) std::memcpy(dst.data + y * dst.row_stride, p.row(y), w);
    };
    if (r == 0) {
      for (int64_t y = 0; y < h; ++y) std::memcpy(dst.data + y * dst.row_stride, src.data + y * src.row_stride, w);
      return;
    }
    const Plane t = transpose(src.data, h, w, src.row_stride);
    if (shape == MorphShape::square) {
      const Plane horizontal = rows_of(t, r);
      Plane out(h, w);
      columns(horizontal, r, out);
      write(out);
      return;
    }
    std::vector<int64_t> half_width(2 * r + 1);
    for (int64_t dy = -r; dy <= r; ++dy) {
      int64_t hw = 0;
      while ((hw + 1) * (hw + 1) + dy * dy <= r * r) ++hw;
      half_width[dy + r] = hw;
    }
    Plane out(h, w);
    std::memset(out.pixels.data(), op == MorphOp::erode ? 255 : 0, out.pixels.size());
    for (int64_t hw = 0; hw <= r; ++hw) {
      bool used = false;
      for (int64_t v : half_width) used |= v == hw;
      if (!used) continue;
      const Plane horizontal = rows_of(t, hw);
      for (int64_t dy = -r; dy <= r; ++dy) {
        if (half_width[dy + r] != hw) continue;
        for (int64_t y = 0; y < h; ++y) {
          if (y + dy >= 0 && y + dy < h) combine(out.row(y), horizontal.row(y + dy), out.row(y), w);
        }
      }
    }
    write(out);
  }
};

}  // namespace
}  // namespace cleancut
