// Scalar oracle for the edge-refinement kernels (see matting_impl.h for the methods).
#include <algorithm>
#include <cmath>

#include "kernels.h"
#include "matting_impl.h"
#include "scalar_ops.h"

namespace cleancut::scalar {
namespace {

struct ScalarOps {
  // Planes aF_r, aF_g, aF_b, a, bB_r, bB_g, bB_b, b with b = 255 - a (exact integers).
  static void weighted_planes(const uint8_t* fg, int64_t fg_channels, const uint8_t* bg, int64_t bg_channels,
                              const uint8_t* alpha, int64_t w, uint32_t* const* rows) {
    for (int64_t x = 0; x < w; ++x) {
      const uint32_t a = alpha[x], b = 255 - a;
      for (int c = 0; c < 3; ++c) {
        rows[c][x] = a * fg[x * fg_channels + c];
        rows[4 + c][x] = b * bg[x * bg_channels + c];
      }
      rows[3][x] = a;
      rows[7][x] = b;
    }
  }

  // F = F_mean + a * residual, B = B_mean + (1 - a) * residual, residual = I - a F_mean - (1 - a) B_mean.
  static void fusion_row(const uint32_t* const* sums, const uint8_t* image, int64_t channels, const uint8_t* alpha,
                         int64_t w, uint8_t* fg, uint8_t* bg) {
    for (int64_t x = 0; x < w; ++x) {
      const float fg_weight = static_cast<float>(static_cast<int32_t>(sums[3][x]));
      const float bg_weight = static_cast<float>(static_cast<int32_t>(sums[7][x]));
      const float a = static_cast<float>(alpha[x]) / 255.0f, rest = 1.0f - a;
      for (int c = 0; c < 3; ++c) {
        const float value = static_cast<float>(image[x * channels + c]);
        const float fg_mean = fg_weight > 0.0f ? static_cast<float>(static_cast<int32_t>(sums[c][x])) / fg_weight : value;
        const float bg_mean = bg_weight > 0.0f ? static_cast<float>(static_cast<int32_t>(sums[4 + c][x])) / bg_weight : value;
        const float residual = (value - a * fg_mean) - rest * bg_mean;
        fg[4 * x + c] = to_u8(fg_mean + a * residual);
        if (bg != nullptr) bg[4 * x + c] = to_u8(bg_mean + rest * residual);
      }
      fg[4 * x + 3] = alpha[x];
      if (bg != nullptr) bg[4 * x + 3] = static_cast<uint8_t>(255 - alpha[x]);
    }
  }

  // Planes I_r, I_g, I_b, p, then the products rr, rg, rb, gg, gb, bb, rp, gp, bp.
  static void guide_planes(const uint8_t* guide, int64_t channels, const uint8_t* src, int64_t w, uint32_t* const* rows) {
    for (int64_t x = 0; x < w; ++x) {
      const uint32_t r = guide[x * channels], g = guide[x * channels + 1], b = guide[x * channels + 2], p = src[x];
      const uint32_t values[13] = {r, g, b, p, r * r, r * g, r * b, g * g, g * b, b * b, r * p, g * p, b * p};
      for (int k = 0; k < 13; ++k) rows[k][x] = values[k];
    }
  }

  // Least-squares a = (Cov(I) + eps U)^-1 Cov(I, p), b = mean(p) - a . mean(I) per window.
  static void fit_row(const uint32_t* const* sums, int32_t rows_in_window, const int32_t* columns, int64_t w, float eps,
                      float* const* out) {
    for (int64_t x = 0; x < w; ++x) {
      const float inv = 1.0f / static_cast<float>(rows_in_window * columns[x]);
      float s[13];
      for (int k = 0; k < 13; ++k) s[k] = static_cast<float>(static_cast<int32_t>(sums[k][x])) * inv;
      const float mr = s[0], mg = s[1], mb = s[2], mp = s[3];
      const float vrr = (s[4] - mr * mr) + eps, vrg = s[5] - mr * mg, vrb = s[6] - mr * mb;
      const float vgg = (s[7] - mg * mg) + eps, vgb = s[8] - mg * mb, vbb = (s[9] - mb * mb) + eps;
      const float cr = s[10] - mr * mp, cg = s[11] - mg * mp, cb = s[12] - mb * mp;
      const float i00 = vgg * vbb - vgb * vgb, i01 = vrb * vgb - vrg * vbb, i02 = vrg * vgb - vrb * vgg;
      const float i11 = vrr * vbb - vrb * vrb, i12 = vrg * vrb - vrr * vgb, i22 = vrr * vgg - vrg * vrg;
      const float inv_det = 1.0f / ((vrr * i00 + vrg * i01) + vrb * i02);
      const float ar = ((i00 * cr + i01 * cg) + i02 * cb) * inv_det;
      const float ag = ((i01 * cr + i11 * cg) + i12 * cb) * inv_det;
      const float ab = ((i02 * cr + i12 * cg) + i22 * cb) * inv_det;
      out[0][x] = ar;
      out[1][x] = ag;
      out[2][x] = ab;
      out[3][x] = ((mp - ar * mr) - ag * mg) - ab * mb;
    }
  }

  static void apply_row(const float* const* sums, int32_t rows_in_window, const int32_t* columns, const uint8_t* guide,
                        int64_t channels, int64_t w, uint8_t* out) {
    for (int64_t x = 0; x < w; ++x) {
      const float inv = 1.0f / static_cast<float>(rows_in_window * columns[x]);
      const float q = (((sums[0][x] * inv) * static_cast<float>(guide[x * channels]) +
                        (sums[1][x] * inv) * static_cast<float>(guide[x * channels + 1])) +
                       (sums[2][x] * inv) * static_cast<float>(guide[x * channels + 2])) +
                      sums[3][x] * inv;
      out[x] = to_u8(q);
    }
  }

  static void ml_row(const MlRow& r) {
    for (int64_t x = 0; x < r.width; ++x) {
      if (r.update[x] == 0.0f || !r.active[x / kMlBlock]) continue;
      const float a0 = r.alpha[1][x], a1 = 1.0f - a0, a01 = a0 * a1;
      const float around[4] = {r.alpha[1][x - 1], r.alpha[1][x + 1], r.alpha[0][x], r.alpha[2][x]};
      float weight[4], a00 = a0 * a0, a11 = a1 * a1;
      for (int d = 0; d < 4; ++d) {
        weight[d] = r.regularization + r.gradient_weight * std::fabs(a0 - around[d]);
        a00 = a00 + weight[d];
        a11 = a11 + weight[d];
      }
      const float inv = 1.0f / (a00 * a11 - a01 * a01);
      const float b00 = inv * a11, b01 = inv * -a01, b11 = inv * a00;
      for (int c = 0; c < 3; ++c) {
        float* fg = r.fg_out[c];
        float* bg = r.bg_out[c];
        const float fg_around[4] = {fg[x - 1], fg[x + 1], r.fg[c][0][x], r.fg[c][1][x]};
        const float bg_around[4] = {bg[x - 1], bg[x + 1], r.bg[c][0][x], r.bg[c][1][x]};
        float s0 = a0 * r.image[c][x], s1 = a1 * r.image[c][x];
        for (int d = 0; d < 4; ++d) {
          s0 = s0 + weight[d] * fg_around[d];
          s1 = s1 + weight[d] * bg_around[d];
        }
        fg[x] = std::min(std::max(b00 * s0 + b01 * s1, 0.0f), 1.0f);
        bg[x] = std::min(std::max(b01 * s0 + b11 * s1, 0.0f), 1.0f);
      }
    }
  }
};

}  // namespace

void estimate_foreground_ml(ImageU8 image, ImageU8 alpha, MutImageU8 dst, int big_iterations, int small_iterations) {
  estimate_foreground_ml_impl<ScalarOps>(image, alpha, dst, big_iterations, small_iterations);
}

void estimate_foreground(ImageU8 image, ImageU8 alpha, MutImageU8 dst, MutImageU8 background, int large_radius, int small_radius) {
  estimate_foreground_impl<ScalarOps>(image, alpha, dst, background, large_radius, small_radius);
}

void guided_filter(ImageU8 guide, ImageU8 src, MutImageU8 dst, int radius, float eps) {
  guided_filter_impl<ScalarOps>(guide, src, dst, radius, eps);
}

}  // namespace cleancut::scalar
