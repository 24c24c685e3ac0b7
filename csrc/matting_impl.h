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
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "box_sums.h"
#include "kernels.h"
#include "scalar_ops.h"
#include "scratch.h"

namespace cleancut {
namespace {

template <class Ops>
void estimate_foreground_impl(ImageU8 image, ImageU8 alpha, MutImageU8 dst, MutImageU8 background, int large_radius, int small_radius) {
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
    Ops::fusion_row(sums.data(), image_row(y), image.channels, alpha_row(y), w, dst.data + y * dst.row_stride,
                    background.data ? background.data + y * background.row_stride : nullptr);
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

namespace cleancut {
namespace {

// One row of a red-black Gauss-Seidel sweep of the multi-level foreground estimation. Rows are
// padded: index -1 and `width` hold copies of the edge pixels (clamped neighbours).
struct MlRow {
  const float* alpha[3];  // rows y-1, y, y+1 (clamped at the image edge)
  const float* image[3];  // r, g, b of row y
  const float* fg[3][2];  // [channel][row y-1, row y+1]: F's neighbours above and below
  const float* bg[3][2];
  float* fg_out[3];  // row y of F and B, updated in place where `update` is 1
  float* bg_out[3];
  const float* update;    // 1.0 on the pixels of this half-sweep's colour, else 0.0
  const uint8_t* active;  // per block of kMlBlock pixels: 1 = sweep it
  int64_t width;
  float regularization, gradient_weight;
};

// Sweeps skip blocks of this many pixels that no soft alpha can reach (a multiple of every Vec::N).
constexpr int64_t kMlBlock = 16;

// Germer et al.'s multi-level foreground estimation (pymatting's estimate_foreground_ml): coarse
// to fine over ~log2(size) levels, at each level a few sweeps that solve, per pixel, the 2x2
// least-squares system "a F + (1-a) B = I, F and B smooth where alpha is" given the neighbours.
// Red-black ordering: a half-sweep updates every other pixel from neighbours of the other colour,
// so the pixels of one half-sweep are independent (vectorisable, order-free, identical on every ISA).
// Only pixels within reach of a soft alpha (0 < a < 1) are swept: elsewhere F is invisible (a = 0)
// or I (a = 1), which the output takes directly.
template <class Ops>
void estimate_foreground_ml_impl(ImageU8 image, ImageU8 alpha, MutImageU8 dst, int big_iterations, int small_iterations) {
  constexpr float kRegularization = 1e-5f, kGradientWeight = 1.0f;
  constexpr int64_t kSmallSize = 32;
  constexpr int64_t kPad = 16;  // the widest vector: steps may read and write this far past the row
  const int64_t h0 = image.height, w0 = image.width;

  // Initial colours: the means of the sure foreground (alpha > 0.9, i.e. >= 230 of 255) and sure
  // background (alpha < 0.1, i.e. <= 25), in exact integer sums over every 4th row and column
  // (they only seed the 1x1 level, which ten sweeps per small level then refine).
  int64_t fg_sum[3] = {0, 0, 0}, bg_sum[3] = {0, 0, 0}, fg_count = 0, bg_count = 0;
  for (int64_t y = 0; y < h0; y += 4) {
    const uint8_t* px = image.data + y * image.row_stride;
    const uint8_t* a = alpha.data + y * alpha.row_stride;
    for (int64_t x = 0; x < w0; x += 4) {
      const bool sure_fg = a[x] >= 230, sure_bg = a[x] <= 25;
      for (int c = 0; c < 3; ++c) {
        fg_sum[c] += sure_fg ? px[x * image.channels + c] : 0;
        bg_sum[c] += sure_bg ? px[x * image.channels + c] : 0;
      }
      fg_count += sure_fg;
      bg_count += sure_bg;
    }
  }
  float unit[256];  // byte -> 0..1
  for (int v = 0; v < 256; ++v) unit[v] = static_cast<float>(v) / 255.0f;

  // Planes 0-2 hold the image, 3 alpha, 4-6 F and 7-9 B. The last (full-size) level keeps only F
  // and B whole: its image and alpha rows live in a window of the rows the sweeps are at, as the
  // wavefront below reaches them (a 6000x4000 photo: 4 of 10 full-size float planes, 384 MB).
  struct Level {
    int64_t h, w, stride;
    float* data;                      // planes `first`..9, h rows each
    int first = 0;                    // 4 where planes 0-3 are in `window`
    float* window = nullptr;          // planes 0-3, row y at y % window_rows
    int64_t window_rows = 0;
    float* row(int plane, int64_t y) {
      if (plane < first) return window + (plane * window_rows + y % window_rows) * stride + 1;
      return data + ((plane - first) * h + y) * stride + 1;
    }
  };
  // Levels alternate between two buffers (the current one and the one it grows from). Up to
  // kKeptLevelFloats they are kept scratch: fresh allocations of that size cost more in page faults
  // than the sweeps. Larger ones are this call's own, in huge pages, freed when it returns: kept,
  // one 6000x4000 photo left its thread holding 1.2 GB (now 0.1; 196 -> 246 ms for its sweeps).
  constexpr size_t kKeptLevelFloats = size_t{48} << 20;  // 192 MiB: a 2048² photo's levels stay kept
  HugeBuffer owned[2];
  auto make_level = [&owned](int64_t h, int64_t w, int index, int64_t window_rows) {
    const int64_t stride = w + 1 + kPad;
    const int first = window_rows ? 4 : 0;
    const size_t count = static_cast<size_t>((10 - first) * h * stride);
    float* window = window_rows ? scratch<float, 2>(static_cast<size_t>(first * window_rows * stride)) : nullptr;
    if (count > kKeptLevelFloats) {
      owned[index % 2] = HugeBuffer(count * sizeof(float));  // the level before the previous one is done with
      return Level{h, w, stride, static_cast<float*>(owned[index % 2].data), first, window, window_rows};
    }
    return Level{h, w, stride, index % 2 ? scratch<float, 1>(count) : scratch<float, 0>(count), first, window, window_rows};
  };
  auto pad_row = [](float* row, int64_t w) {
    row[-1] = row[0];
    row[w] = row[w - 1];
  };

  Level previous = make_level(1, 1, 1, 0);
  for (int c = 0; c < 3; ++c) {
    previous.row(4 + c, 0)[0] = static_cast<float>(fg_sum[c] / 255.0 / (static_cast<double>(fg_count) + 1e-5));
    previous.row(7 + c, 0)[0] = static_cast<float>(bg_sum[c] / 255.0 / (static_cast<double>(bg_count) + 1e-5));
  }
  const int levels = static_cast<int>(std::ceil(std::log2(static_cast<double>(std::max(w0, h0)))));
  std::vector<float> phases[2];
  std::vector<uint8_t> active;  // the current level's sweep blocks (h x blocks)
  for (int level_index = 0; level_index <= levels; ++level_index) {
    // Python's round (half to even), as pymatting sizes its levels.
    const double share = levels == 0 ? 1.0 : static_cast<double>(level_index) / levels;
    const int64_t w = std::max<int64_t>(1, static_cast<int64_t>(std::nearbyint(std::pow(static_cast<double>(w0), share))));
    const int64_t h = std::max<int64_t>(1, static_cast<int64_t>(std::nearbyint(std::pow(static_cast<double>(h0), share))));
    const int iterations = (w <= kSmallSize && h <= kSmallSize) ? small_iterations : big_iterations;
    const int stages = 2 * iterations;  // half-sweeps
    const bool last = level_index == levels;  // full size: no resampling, plain (vectorisable) conversions
    // The wavefront reads rows from `stages` above the row it starts to one below it.
    Level level = make_level(h, w, level_index, last ? stages + 2 : 0);
    // Nearest-neighbour resampling as pymatting's: source index = i * size_src / size_dst.
    std::vector<int64_t> from_full(w), from_previous(w);
    for (int64_t x = 0; x < w; ++x) {
      from_full[x] = std::min(w0 - 1, x * w0 / w);
      from_previous[x] = std::min(previous.w - 1, x * previous.w / w);
    }
    auto source_row = [&](int64_t y, int64_t h_src, int64_t h_dst) { return std::min(h_src - 1, y * h_src / h_dst); };
    // The last level's alpha rows go into its window as the sweeps reach them (full size: plain,
    // vectorisable conversions); a coarser level's are made below, with its soft blocks.
    auto fill_alpha = [&](int64_t y) {
      const uint8_t* a = alpha.data + y * alpha.row_stride;
      float* out = level.row(3, y);
      for (int64_t x = 0; x < w; ++x) out[x] = static_cast<float>(a[x]) / 255.0f;
      pad_row(out, w);
    };
    // Blocks within `reach` (what the sweeps can carry a change across) of a soft alpha
    // (0 < a < 1: a byte other than 0 and 255), read from the level's alpha bytes.
    const int64_t reach = 2 * int64_t(iterations), blocks = (w + kMlBlock - 1) / kMlBlock;
    std::vector<uint8_t> soft(h * blocks, 0);
    std::vector<uint8_t> alpha_row(w);
    auto is_soft = [](uint8_t v) { return v != 0 && v != 255; };
    for (int64_t y = 0; y < h; ++y) {
      const uint8_t* a = alpha.data + source_row(y, h0, h) * alpha.row_stride;
      if (!last) {  // resampled, and the level's alpha plane made from it
        float* out = level.row(3, y);
        for (int64_t x = 0; x < w; ++x) {
          alpha_row[x] = a[from_full[x]];
          out[x] = unit[alpha_row[x]];
        }
        pad_row(out, w);
        a = alpha_row.data();
      }
      for (int64_t b = 0; b < blocks; ++b) {
        // Each soft pixel reaches a block range that includes its own block, so the union over a
        // block's soft pixels is the range from its first one's reach to its last one's.
        const int64_t begin = b * kMlBlock, end = std::min(w, begin + kMlBlock);
        int soft_pixels = 0;
        for (int64_t x = begin; x < end; ++x) soft_pixels += is_soft(a[x]);  // branch-free count first
        if (soft_pixels == 0) continue;
        int64_t first_soft = begin, last_soft = end - 1;
        while (!is_soft(a[first_soft])) ++first_soft;
        while (!is_soft(a[last_soft])) --last_soft;
        const int64_t from = std::max<int64_t>(0, first_soft - reach) / kMlBlock, to = std::min(w - 1, last_soft + reach) / kMlBlock;
        std::fill(soft.begin() + y * blocks + from, soft.begin() + y * blocks + to + 1, uint8_t{1});
      }
    }
    auto dilate_rows = [&](const std::vector<uint8_t>& in, int64_t rows, std::vector<uint8_t>& out) {
      out.assign(h * blocks, 0);
      for (int64_t y = 0; y < h; ++y) {
        for (int64_t near = std::max<int64_t>(0, y - rows); near <= std::min(h - 1, y + rows); ++near) {
          for (int64_t b = 0; b < blocks; ++b) out[y * blocks + b] |= in[near * blocks + b];
        }
      }
    };
    dilate_rows(soft, reach, active);
    // The last level needs colours only where it sweeps and at the neighbours those pixels read
    // (one block and one row further); coarser levels feed the next level's upsampling: all of it.
    std::vector<uint8_t> needed(h * blocks, 1);
    if (last) {
      std::vector<uint8_t> wide(h * blocks, 0);
      for (int64_t i = 0; i < h * blocks; ++i) {
        const int64_t b = i % blocks;
        wide[i] = active[i] | (b > 0 && active[i - 1]) | (b + 1 < blocks && active[i + 1]);
      }
      dilate_rows(wide, 1, needed);
    }
    // The image's colours in row y's needed blocks.
    auto fill_image = [&](int64_t y) {
      const uint8_t* px = image.data + source_row(y, h0, h) * image.row_stride;
      for (int64_t b = 0; b < blocks; ++b) {
        if (!needed[y * blocks + b]) continue;
        const int64_t begin = b * kMlBlock, end = std::min(w, begin + kMlBlock);
        for (int c = 0; c < 3; ++c) {
          float* out = level.row(c, y);
          if (last) {
            for (int64_t x = begin; x < end; ++x) out[x] = static_cast<float>(px[x * image.channels + c]) / 255.0f;
          } else {
            for (int64_t x = begin; x < end; ++x) out[x] = unit[px[from_full[x] * image.channels + c]];
          }
        }
      }
    };
    for (int64_t y = 0; y < h; ++y) {
      const int64_t y_prev = source_row(y, previous.h, h);
      const bool repeat = !last && y > 0 && source_row(y - 1, h0, h) == source_row(y, h0, h) &&
                          source_row(y - 1, previous.h, h) == y_prev;
      if (repeat) {  // a fully needed level whose upsampling repeats this row: copy the one just made
        for (int plane : {0, 1, 2, 4, 5, 6, 7, 8, 9}) std::memcpy(level.row(plane, y) - 1, level.row(plane, y - 1) - 1, (w + 2) * sizeof(float));
        continue;
      }
      if (!last) fill_image(y);
      for (int64_t b = 0; b < blocks; ++b) {
        if (!needed[y * blocks + b]) continue;
        const int64_t begin = b * kMlBlock, end = std::min(w, begin + kMlBlock);
        for (int plane = 4; plane < 10; ++plane) {
          const float* in = previous.row(plane, y_prev);
          float* out = level.row(plane, y);
          for (int64_t x = begin; x < end; ++x) out[x] = in[from_previous[x]];
        }
      }
      for (int plane = 4; plane < 10; ++plane) pad_row(level.row(plane, y), w);  // read only beside needed pixels
    }
    for (int k = 0; k < 2; ++k) {
      phases[k].assign(w + kPad, 0.0f);
      for (int64_t x = k; x < w; x += 2) phases[k][x] = 1.0f;
    }
    auto sweep = [&](int64_t y, int colour) {
      const int64_t up = y > 0 ? y - 1 : y, down = y + 1 < h ? y + 1 : y;
      MlRow row{};
      for (int k = 0; k < 3; ++k) row.alpha[k] = level.row(3, k == 0 ? up : k == 1 ? y : down);
      for (int c = 0; c < 3; ++c) {
        row.image[c] = level.row(c, y);
        row.fg[c][0] = level.row(4 + c, up);
        row.fg[c][1] = level.row(4 + c, down);
        row.bg[c][0] = level.row(7 + c, up);
        row.bg[c][1] = level.row(7 + c, down);
        row.fg_out[c] = level.row(4 + c, y);
        row.bg_out[c] = level.row(7 + c, y);
      }
      row.update = phases[(colour + y) & 1].data();
      row.active = active.data() + y * blocks;
      row.width = w;
      row.regularization = kRegularization;
      row.gradient_weight = kGradientWeight;
      Ops::ml_row(row);
      for (int c = 0; c < 3; ++c) {
        pad_row(row.fg_out[c], w);
        pad_row(row.bg_out[c], w);
      }
    };
    // All half-sweeps in one pass down the image, as a wavefront: half-sweep s runs s rows behind
    // the first, by when every neighbour it reads has its final value for that half-sweep. Same
    // results as sweeping the whole level 2 x iterations times, with the rows still in cache.
    for (int64_t step = 0, windowed = 0; step < h + stages - 1; ++step) {
      for (; last && windowed < std::min(h, step + 2); ++windowed) {  // rows up to step + 1 into the window
        fill_alpha(windowed);
        fill_image(windowed);
      }
      for (int stage = 0; stage < stages; ++stage) {
        const int64_t y = step - stage;
        if (y >= 0 && y < h) sweep(y, stage % 2);
      }
    }
    previous = level;
  }

  const int64_t blocks = (w0 + kMlBlock - 1) / kMlBlock;
  for (int64_t y = 0; y < h0; ++y) {
    uint8_t* out = dst.data + y * dst.row_stride;
    const uint8_t* a = alpha.data + y * alpha.row_stride;
    const uint8_t* px = image.data + y * image.row_stride;
    const uint8_t* swept = active.data() + y * blocks;
    const float* fg[3] = {previous.row(4, y), previous.row(5, y), previous.row(6, y)};
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t first = b * kMlBlock, last = std::min(w0, first + kMlBlock);
      for (int c = 0; c < 3; ++c) {
        if (!swept[b]) {  // alpha is 0 or 1 there: F = I
          for (int64_t x = first; x < last; ++x) out[4 * x + c] = px[x * image.channels + c];
        } else {  // fg is in [0, 1]: adding 1.5 * 2^23 rounds half to even (as to_u8) without a libm call
          for (int64_t x = first; x < last; ++x) out[4 * x + c] = static_cast<uint8_t>((fg[c][x] * 255.0f + 12582912.0f) - 12582912.0f);
        }
      }
    }
    for (int64_t x = 0; x < w0; ++x) out[4 * x + 3] = a[x];
  }
}

}  // namespace
}  // namespace cleancut
