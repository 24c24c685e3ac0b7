// Packed-pixel helpers for SIMD kernels that hold N pixels as 32-bit lanes 0xAABBGGRR.
#pragma once

namespace cleancut {
namespace {

template <class V>
struct PixelLanes {
  using F = typename V::F;
  using I = typename V::I;

  static I channel(I px, int c) {
    const I shifted = c == 0 ? px : c == 1 ? V::template shr_i32<8>(px) : V::template shr_i32<16>(px);
    return V::and_i32(shifted, V::set1_i32(0xff));
  }
  static I pack(I r, I g, I b, I a) {
    return V::or_i32(V::or_i32(r, V::template shl_i32<8>(g)), V::or_i32(V::template shl_i32<16>(b), V::template shl_i32<24>(a)));
  }
  // Clamp to [0, 255], round half to even (as scalar to_u8).
  static I to_byte(F v) { return V::round_to_i32(V::min(V::max(v, V::zero()), V::set1(255.0f))); }
};

}  // namespace
}  // namespace cleancut
