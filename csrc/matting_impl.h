// Edge refinement pipelines, written once over an `Ops` type that supplies the per-pixel work
// (scalar oracle in matting_base.cpp, SIMD in matting_simd.h); the window sums (box_sums.h) and
// the row bookkeeping here are shared, so every ISA runs the same arithmetic.
//
// estimate_foreground: Blur-Fusion (Forte & Pitie 2021). Where 0 < alpha < 1 a pixel is
// I = aF + (1-a)B; F and B are estimated from alpha-weighted box means of the surroundings plus the
// share of the unexplained residual that belongs to each, first with a large window on I, then
// with a small window on the first estimates. Two passes, pipelined row by row: memory is a few
// rows, not images.
//
// guided_filter: He et al.'s colour guided filter of a mask by the image (edge-aware smoothing
// whose output follows the image's edges), also as two pipelined window passes.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "box_sums.h"
#include "kernels.h"

namespace cleancut {
namespace {

template <class Ops>
void estimate_foreground_impl(ImageU8 image, ImageU8 alpha, MutImageU8 dst, int large_radius, int small_radius) {
  const int64_t h = image.height, w = image.width, rgba_row = 4 * w + 4 * BoxSums<uint32_t, 8>::kPad;
  auto image_row = [&](int64_t y) { return image.data + y * image.row_stride; };
  auto alpha_row = [&](int64_t y) { return alpha.data + y * alpha.row_stride; };

  // Pass 1 on the image itself; its F and B rows wait in rings for pass 2's window.
  BoxSums<uint32_t, 8> first(h, w, large_radius);
  const int64_t capacity = 2 * int64_t(small_radius) + 2;
  RowRing<uint8_t> fg(capacity, rgba_row), bg(capacity, rgba_row);
  int64_t first_done = 0;
  auto advance_first = [&](int64_t j) {
    for (; first_done <= j; ++first_done) {
      const auto sums = first.next([&](int64_t k, auto rows) {
        Ops::weighted_planes(image_row(k), image.channels, image_row(k), image.channels, alpha_row(k), w, rows.data());
      });
      Ops::fusion_row(sums.data(), image_row(first_done), image.channels, alpha_row(first_done), w, fg.row(first_done), bg.row(first_done));
    }
  };

  BoxSums<uint32_t, 8> second(h, w, small_radius);
  for (int64_t y = 0; y < h; ++y) {
    const auto sums = second.next([&](int64_t k, auto rows) {
      advance_first(k);
      Ops::weighted_planes(fg.row(k), 4, bg.row(k), 4, alpha_row(k), w, rows.data());
    });
    Ops::fusion_row(sums.data(), image_row(y), image.channels, alpha_row(y), w, dst.data + y * dst.row_stride, nullptr);
  }
}

template <class Ops>
void guided_filter_impl(ImageU8 guide, ImageU8 src, MutImageU8 dst, int radius, float eps) {
  const int64_t h = guide.height, w = guide.width, plane = w + BoxSums<float, 4>::kPad;
  std::vector<int32_t> columns(plane);  // padded like the planes: vector steps may read past w
  for (int64_t x = 0; x < w; ++x) columns[x] = static_cast<int32_t>(window_count(x, w, radius));
  auto guide_row = [&](int64_t y) { return guide.data + y * guide.row_stride; };

  // Pass 1: per-pixel linear model q = a . I + b fitted in each window; (a_r, a_g, a_b, b) planes.
  BoxSums<uint32_t, 13> statistics(h, w, radius);
  RowRing<float> coefficients(2 * int64_t(radius) + 2, 4 * plane);
  int64_t fitted = 0;
  auto advance = [&](int64_t j) {
    for (; fitted <= j; ++fitted) {
      const auto sums = statistics.next([&](int64_t k, auto rows) {
        Ops::guide_planes(guide_row(k), guide.channels, src.data + k * src.row_stride, w, rows.data());
      });
      float* out = coefficients.row(fitted);
      float* planes[4] = {out, out + plane, out + 2 * plane, out + 3 * plane};
      Ops::fit_row(sums.data(), static_cast<int32_t>(window_count(fitted, h, radius)), columns.data(), w, eps, planes);
    }
  };
  // Pass 2: average the models covering each pixel and apply them to the guide.
  BoxSums<float, 4> models(h, w, radius);
  for (int64_t y = 0; y < h; ++y) {
    const auto sums = models.next([&](int64_t k, auto rows) {
      advance(k);
      const float* in = coefficients.row(k);
      for (int p = 0; p < 4; ++p) std::memcpy(rows[p], in + p * plane, w * sizeof(float));
    });
    Ops::apply_row(sums.data(), static_cast<int32_t>(window_count(y, h, radius)), columns.data(), guide_row(y), guide.channels, w,
                   dst.data + y * dst.row_stride);
  }
}

}  // namespace
}  // namespace cleancut
