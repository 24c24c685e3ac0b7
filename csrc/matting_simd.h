// SIMD edge-refinement kernels, templated on an ISA's Vec: N pixels per step, the same integer
// and float operations in the same order as matting_base.cpp, so results are bit-identical.
#pragma once
#include <cstring>

#include "kernels.h"
#include "matting_impl.h"
#include "pixel_lanes.h"
#include "simd_loop.h"

namespace cleancut {
namespace {

template <class V>
struct MattingSimd : PixelLanes<V> {
  using F = typename V::F;
  using I = typename V::I;
  using PixelLanes<V>::channel;
  using PixelLanes<V>::pack;
  using PixelLanes<V>::to_byte;

  // body(x, count, staged): full steps keep an RGB load's over-read inside the row; the rest are
  // staged through stack buffers.
  template <class Body>
  static void pixel_steps(int64_t w, int64_t channels, Body&& body) {
    const int64_t guard = channels == 3 ? (V::kRgbOverread + 2) / 3 : 0;
    int64_t x = 0;
    for (; x + V::N + guard <= w; x += V::N) body(x, int64_t{V::N}, false);
    for (; x < w; x += V::N) body(x, std::min<int64_t>(V::N, w - x), true);
  }
  static I pixels(const uint8_t* row, int64_t x, int64_t channels, int64_t count, bool staged) {
    const uint8_t* p = row + x * channels;
    alignas(64) uint8_t buffer[4 * V::N + V::kRgbOverread] = {};
    if (staged) p = static_cast<const uint8_t*>(std::memcpy(buffer, p, count * channels));
    return channels == 3 ? V::load_rgb(p) : V::load_rgba(p);
  }
  static I bytes(const uint8_t* row, int64_t x, int64_t count, bool staged) {
    return staged ? load_u8_i32<V>(row + x, count, Tail{}) : V::load_u8_i32(row + x);
  }
  static void store_pixels(uint8_t* row, int64_t x, I px, int64_t count, bool staged) {
    if (!staged) return V::store_rgba(row + 4 * x, px);
    alignas(64) uint8_t buffer[4 * V::N];
    V::store_rgba(buffer, px);
    std::memcpy(row + 4 * x, buffer, 4 * count);
  }
  static F sum(const uint32_t* plane, int64_t x) { return V::to_f32(V::load_i32(reinterpret_cast<const int32_t*>(plane + x))); }
  static void store_plane(uint32_t* plane, int64_t x, I v) { V::store_i32(reinterpret_cast<int32_t*>(plane + x), v); }

  static void weighted_planes(const uint8_t* fg, int64_t fg_channels, const uint8_t* bg, int64_t bg_channels,
                              const uint8_t* alpha, int64_t w, uint32_t* const* rows) {
    pixel_steps(w, std::min(fg_channels, bg_channels), [&](int64_t x, int64_t count, bool staged) {
      const I f = pixels(fg, x, fg_channels, count, staged), b = pixels(bg, x, bg_channels, count, staged);
      const I a = bytes(alpha, x, count, staged), rest = V::sub_i32(V::set1_i32(255), a);
      for (int c = 0; c < 3; ++c) {
        store_plane(rows[c], x, V::mul_i32(a, channel(f, c)));
        store_plane(rows[4 + c], x, V::mul_i32(rest, channel(b, c)));
      }
      store_plane(rows[3], x, a);
      store_plane(rows[7], x, rest);
    });
  }

  static void fusion_row(const uint32_t* const* sums, const uint8_t* image, int64_t channels, const uint8_t* alpha,
                         int64_t w, uint8_t* fg, uint8_t* bg) {
    pixel_steps(w, channels, [&](int64_t x, int64_t count, bool staged) {
      const F fg_weight = sum(sums[3], x), bg_weight = sum(sums[7], x);
      const I alpha_lanes = bytes(alpha, x, count, staged);
      const F a = V::div(V::to_f32(alpha_lanes), V::set1(255.0f)), rest = V::sub(V::set1(1.0f), a);
      const I px = pixels(image, x, channels, count, staged);
      I fg_out[3], bg_out[3];
      for (int c = 0; c < 3; ++c) {
        const F value = V::to_f32(channel(px, c));
        const F fg_mean = V::gt_select(fg_weight, V::zero(), V::div(sum(sums[c], x), fg_weight), value);
        const F bg_mean = V::gt_select(bg_weight, V::zero(), V::div(sum(sums[4 + c], x), bg_weight), value);
        const F residual = V::sub(V::sub(value, V::mul(a, fg_mean)), V::mul(rest, bg_mean));
        fg_out[c] = to_byte(V::add(fg_mean, V::mul(a, residual)));
        bg_out[c] = to_byte(V::add(bg_mean, V::mul(rest, residual)));
      }
      store_pixels(fg, x, pack(fg_out[0], fg_out[1], fg_out[2], alpha_lanes), count, staged);
      if (bg != nullptr) store_pixels(bg, x, pack(bg_out[0], bg_out[1], bg_out[2], V::sub_i32(V::set1_i32(255), alpha_lanes)), count, staged);
    });
  }

  static void guide_planes(const uint8_t* guide, int64_t channels, const uint8_t* src, int64_t w, uint32_t* const* rows) {
    pixel_steps(w, channels, [&](int64_t x, int64_t count, bool staged) {
      const I px = pixels(guide, x, channels, count, staged);
      const I r = channel(px, 0), g = channel(px, 1), b = channel(px, 2), p = bytes(src, x, count, staged);
      const I values[13] = {r, g, b, p, V::mul_i32(r, r), V::mul_i32(r, g), V::mul_i32(r, b), V::mul_i32(g, g),
                            V::mul_i32(g, b), V::mul_i32(b, b), V::mul_i32(r, p), V::mul_i32(g, p), V::mul_i32(b, p)};
      for (int k = 0; k < 13; ++k) store_plane(rows[k], x, values[k]);
    });
  }

  static F inverse_count(int32_t rows_in_window, const int32_t* columns, int64_t x) {
    const I n = V::mul_i32(V::set1_i32(rows_in_window), V::load_i32(columns + x));
    return V::div(V::set1(1.0f), V::to_f32(n));
  }

  static void fit_row(const uint32_t* const* sums, int32_t rows_in_window, const int32_t* columns, int64_t w, float eps,
                      float* const* out) {
    const F e = V::set1(eps);
    // Plane buffers are padded past w: whole vectors throughout, no tail.
    for (int64_t x = 0; x < w; x += V::N) {
      const F inv = inverse_count(rows_in_window, columns, x);
      F s[13];
      for (int k = 0; k < 13; ++k) s[k] = V::mul(sum(sums[k], x), inv);
      const F mr = s[0], mg = s[1], mb = s[2], mp = s[3];
      const F vrr = V::add(V::sub(s[4], V::mul(mr, mr)), e), vrg = V::sub(s[5], V::mul(mr, mg)), vrb = V::sub(s[6], V::mul(mr, mb));
      const F vgg = V::add(V::sub(s[7], V::mul(mg, mg)), e), vgb = V::sub(s[8], V::mul(mg, mb));
      const F vbb = V::add(V::sub(s[9], V::mul(mb, mb)), e);
      const F cr = V::sub(s[10], V::mul(mr, mp)), cg = V::sub(s[11], V::mul(mg, mp)), cb = V::sub(s[12], V::mul(mb, mp));
      auto minor = [](F a, F b, F c, F d) { return V::sub(V::mul(a, b), V::mul(c, d)); };
      const F i00 = minor(vgg, vbb, vgb, vgb), i01 = minor(vrb, vgb, vrg, vbb), i02 = minor(vrg, vgb, vrb, vgg);
      const F i11 = minor(vrr, vbb, vrb, vrb), i12 = minor(vrg, vrb, vrr, vgb), i22 = minor(vrr, vgg, vrg, vrg);
      const F inv_det = V::div(V::set1(1.0f), V::add(V::add(V::mul(vrr, i00), V::mul(vrg, i01)), V::mul(vrb, i02)));
      auto row = [&](F k0, F k1, F k2) {
        return V::mul(V::add(V::add(V::mul(k0, cr), V::mul(k1, cg)), V::mul(k2, cb)), inv_det);
      };
      const F ar = row(i00, i01, i02), ag = row(i01, i11, i12), ab = row(i02, i12, i22);
      V::store(out[0] + x, ar);
      V::store(out[1] + x, ag);
      V::store(out[2] + x, ab);
      V::store(out[3] + x, V::sub(V::sub(V::sub(mp, V::mul(ar, mr)), V::mul(ag, mg)), V::mul(ab, mb)));
    }
  }

  static void apply_row(const float* const* sums, int32_t rows_in_window, const int32_t* columns, const uint8_t* guide,
                        int64_t channels, int64_t w, uint8_t* out) {
    pixel_steps(w, channels, [&](int64_t x, int64_t count, bool staged) {
      const F inv = inverse_count(rows_in_window, columns, x);
      const I px = pixels(guide, x, channels, count, staged);
      F q = V::add(V::mul(V::mul(V::load(sums[0] + x), inv), V::to_f32(channel(px, 0))),
                   V::mul(V::mul(V::load(sums[1] + x), inv), V::to_f32(channel(px, 1))));
      q = V::add(q, V::mul(V::mul(V::load(sums[2] + x), inv), V::to_f32(channel(px, 2))));
      q = V::add(q, V::mul(V::load(sums[3] + x), inv));
      if (staged) store_u8<V>(out + x, q, count, Tail{});
      else V::store_u8(out + x, q);
    });
  }

  static void ml_row(const MlRow& r) {
    const F zero = V::zero(), one = V::set1(1.0f), half = V::set1(0.5f);
    const F regularization = V::set1(r.regularization), gradient_weight = V::set1(r.gradient_weight);
    // Rows are padded past the width: whole vectors throughout; lanes past it keep their values.
    for (int64_t x = 0; x < r.width; x += V::N) {
      if (!r.active[x / kMlBlock]) continue;
      const F a0 = V::load(r.alpha[1] + x), a1 = V::sub(one, a0), a01 = V::mul(a0, a1);
      const F around[4] = {V::load(r.alpha[1] + x - 1), V::load(r.alpha[1] + x + 1), V::load(r.alpha[0] + x), V::load(r.alpha[2] + x)};
      F weight[4], a00 = V::mul(a0, a0), a11 = V::mul(a1, a1);
      for (int d = 0; d < 4; ++d) {
        const F difference = V::sub(a0, around[d]);
        weight[d] = V::add(regularization, V::mul(gradient_weight, V::max(difference, V::sub(zero, difference))));
        a00 = V::add(a00, weight[d]);
        a11 = V::add(a11, weight[d]);
      }
      const F inv = V::div(one, V::sub(V::mul(a00, a11), V::mul(a01, a01)));
      const F b00 = V::mul(inv, a11), b01 = V::mul(inv, V::sub(zero, a01)), b11 = V::mul(inv, a00);
      const F update = V::load(r.update + x);
      for (int c = 0; c < 3; ++c) {
        float* fg = r.fg_out[c];
        float* bg = r.bg_out[c];
        const F fg_around[4] = {V::load(fg + x - 1), V::load(fg + x + 1), V::load(r.fg[c][0] + x), V::load(r.fg[c][1] + x)};
        const F bg_around[4] = {V::load(bg + x - 1), V::load(bg + x + 1), V::load(r.bg[c][0] + x), V::load(r.bg[c][1] + x)};
        const F value = V::load(r.image[c] + x);
        F s0 = V::mul(a0, value), s1 = V::mul(a1, value);
        for (int d = 0; d < 4; ++d) {
          s0 = V::add(s0, V::mul(weight[d], fg_around[d]));
          s1 = V::add(s1, V::mul(weight[d], bg_around[d]));
        }
        const F new_fg = V::min(V::max(V::add(V::mul(b00, s0), V::mul(b01, s1)), zero), one);
        const F new_bg = V::min(V::max(V::add(V::mul(b01, s0), V::mul(b11, s1)), zero), one);
        V::store(fg + x, V::gt_select(update, half, new_fg, V::load(fg + x)));
        V::store(bg + x, V::gt_select(update, half, new_bg, V::load(bg + x)));
      }
    }
  }
};

}  // namespace
}  // namespace cleancut

// The entry points of one ISA's table: each matting_<isa>.cpp expands this inside its namespace.
#define CLEANCUT_DEFINE_MATTING_KERNELS                                                                                           \
  void estimate_foreground(ImageU8 image, ImageU8 alpha, MutImageU8 dst, MutImageU8 background, int large_radius,             \
                           int small_radius) {                                                                                 \
    estimate_foreground_impl<MattingSimd<Vec>>(image, alpha, dst, background, large_radius, small_radius);                    \
  }                                                                                                                            \
  void estimate_foreground_ml(ImageU8 image, ImageU8 alpha, MutImageU8 dst, int big_iterations, int small_iterations) {       \
    estimate_foreground_ml_impl<MattingSimd<Vec>>(image, alpha, dst, big_iterations, small_iterations);                       \
  }                                                                                                                            \
  void guided_filter(ImageU8 guide, ImageU8 src, MutImageU8 dst, int radius, float eps) {                                     \
    guided_filter_impl<MattingSimd<Vec>>(guide, src, dst, radius, eps);                                                         \
  }
