// SIMD compose, templated on an ISA's Vec: N pixels per step as 32-bit lanes 0xAABBGGRR.
// Bit-identical to compose_base.cpp (integer maths, and float maths in the same order).
#pragma once
#include <cstring>

#include "kernels.h"
#include "pixel_lanes.h"
#include "simd_loop.h"

namespace cleancut {
namespace {

template <class V>
struct ComposeSimd : PixelLanes<V> {
  using F = typename V::F;
  using I = typename V::I;
  using PixelLanes<V>::channel;
  using PixelLanes<V>::pack;
  using PixelLanes<V>::to_byte;

  static I div255(I v) {
    v = V::add_i32(v, V::set1_i32(128));
    return V::template shr_i32<8>(V::add_i32(v, V::template shr_i32<8>(v)));
  }

  static I pixels(I px, I a, ComposeMode mode, const uint8_t bg[4]) {
    switch (mode) {
      case ComposeMode::straight:
        return V::or_i32(V::and_i32(px, V::set1_i32(0xffffff)), V::template shl_i32<24>(a));
      case ComposeMode::cutout: {
        const I visible = V::sub_i32(V::set1_i32(0), V::min_i32(a, V::set1_i32(1)));  // all ones where a > 0
        return V::or_i32(V::and_i32(px, V::and_i32(visible, V::set1_i32(0xffffff))), V::template shl_i32<24>(a));
      }
      case ComposeMode::premultiplied:
        return pack(div255(V::mul_i32(channel(px, 0), a)), div255(V::mul_i32(channel(px, 1), a)),
                    div255(V::mul_i32(channel(px, 2), a)), a);
      case ComposeMode::over_color: {
        const F fa = V::to_f32(a);
        const F behind = V::div(V::mul(V::set1(float(bg[3])), V::sub(V::set1(255.0f), fa)), V::set1(255.0f));
        const F total = V::add(fa, behind);
        I rgb[3];
        for (int c = 0; c < 3; ++c) {
          const F blended = V::div(V::add(V::mul(V::to_f32(channel(px, c)), fa), V::mul(V::set1(float(bg[c])), behind)), total);
          rgb[c] = to_byte(V::gt_select(total, V::zero(), blended, V::zero()));
        }
        return pack(rgb[0], rgb[1], rgb[2], to_byte(total));
      }
    }
    return px;
  }

  static void run(ImageU8 rgb, ImageU8 alpha, MutImageU8 dst, ComposeMode mode, const uint8_t bg[4]) {
    const int64_t channels = rgb.channels;
    // A full RGB load reads kRgbOverread bytes past its pixels: keep full steps that far from the row end.
    const int64_t guard = channels == 3 ? (V::kRgbOverread + 2) / 3 : 0;
    for (int64_t y = 0; y < rgb.height; ++y) {
      const uint8_t* in = rgb.data + y * rgb.row_stride;
      const uint8_t* mask = alpha.data + y * alpha.row_stride;
      uint8_t* out = dst.data + y * dst.row_stride;
      int64_t x = 0;
      for (; x + V::N + guard <= rgb.width; x += V::N) {
        const I px = channels == 3 ? V::load_rgb(in + 3 * x) : V::load_rgba(in + 4 * x);
        V::store_rgba(out + 4 * x, pixels(px, alpha_lanes(px, V::load_u8_i32(mask + x), channels), mode, bg));
      }
      for (; x < rgb.width; x += V::N) {
        const int64_t count = rgb.width - x < V::N ? rgb.width - x : V::N;
        alignas(64) uint8_t pixel_buffer[4 * V::N + V::kRgbOverread] = {};
        alignas(64) uint8_t out_buffer[4 * V::N];
        std::memcpy(pixel_buffer, in + channels * x, count * channels);
        const I px = channels == 3 ? V::load_rgb(pixel_buffer) : V::load_rgba(pixel_buffer);
        const I a = alpha_lanes(px, load_u8_i32<V>(mask + x, count, Tail{}), channels);
        V::store_rgba(out_buffer, pixels(px, a, mode, bg));
        std::memcpy(out + 4 * x, out_buffer, 4 * count);
      }
    }
  }

  // With an RGBA input its own alpha multiplies the mask.
  static I alpha_lanes(I px, I mask, int64_t channels) {
    return channels == 4 ? div255(V::mul_i32(mask, V::template shr_i32<24>(px))) : mask;
  }
};

}  // namespace
}  // namespace cleancut
