// AArch64 NEON vector primitives: 4 float/int32 lanes, 16 byte lanes. Only for *_neon.cpp files.
// NEON has no gathers; gather/permute2 go through the stack, which keeps results identical.
#pragma once
#include <arm_neon.h>

#include <cstdint>

namespace cleancut::neon {

struct Vec {
  static constexpr int N = 4;
  static constexpr int NB = 16;
  using F = float32x4_t;
  using I = int32x4_t;

  static F zero() { return vdupq_n_f32(0.0f); }
  static F set1(float v) { return vdupq_n_f32(v); }
  static F load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, F v) { vst1q_f32(p, v); }
  static F add(F a, F b) { return vaddq_f32(a, b); }
  static F sub(F a, F b) { return vsubq_f32(a, b); }
  static F mul(F a, F b) { return vmulq_f32(a, b); }

  static F div(F a, F b) { return vdivq_f32(a, b); }
  static F min(F a, F b) { return vminq_f32(a, b); }
  static F max(F a, F b) { return vmaxq_f32(a, b); }
  static F gt_select(F a, F b, F if_true, F if_false) { return vbslq_f32(vcgtq_f32(a, b), if_true, if_false); }
  static F gather(const float* base, I index) {
    alignas(16) int32_t i[4];
    vst1q_s32(i, index);
    const float values[4] = {base[i[0]], base[i[1]], base[i[2]], base[i[3]]};
    return vld1q_f32(values);
  }
  // lanes of the 8 floats lo:hi picked by idx (0..7).
  static F permute2(F lo, F hi, I idx) {
    alignas(16) float table[8];
    vst1q_f32(table, lo);
    vst1q_f32(table + 4, hi);
    return gather(table, idx);
  }
  static float reduce_max(F v) { return vmaxvq_f32(v); }
  static float reduce_min(F v) { return vminvq_f32(v); }

  static I load_i32(const int32_t* p) { return vld1q_s32(p); }
  static I set1_i32(int32_t v) { return vdupq_n_s32(v); }
  static I add_i32(I a, I b) { return vaddq_s32(a, b); }
  static I sub_i32(I a, I b) { return vsubq_s32(a, b); }
  static I mul_i32(I a, I b) { return vmulq_s32(a, b); }
  static I and_i32(I a, I b) { return vandq_s32(a, b); }
  static I or_i32(I a, I b) { return vorrq_s32(a, b); }
  template <int S> static I shr_i32(I a) { return vreinterpretq_s32_u32(vshrq_n_u32(vreinterpretq_u32_s32(a), S)); }
  template <int S> static I shl_i32(I a) { return vshlq_n_s32(a, S); }
  template <int S> static I sar_i32(I a) { return vshrq_n_s32(a, S); }
  static I min_i32(I a, I b) { return vminq_s32(a, b); }
  static I max_i32(I a, I b) { return vmaxq_s32(a, b); }
  static void store_i32(int32_t* p, I v) { vst1q_s32(p, v); }
  // m[r] lane c -> m[c] lane r (a 4x4 transpose).
  static void transpose(I (&m)[N]) {
    const int32x4x2_t a = vtrnq_s32(m[0], m[1]), b = vtrnq_s32(m[2], m[3]);
    m[0] = vcombine_s32(vget_low_s32(a.val[0]), vget_low_s32(b.val[0]));
    m[1] = vcombine_s32(vget_low_s32(a.val[1]), vget_low_s32(b.val[1]));
    m[2] = vcombine_s32(vget_high_s32(a.val[0]), vget_high_s32(b.val[0]));
    m[3] = vcombine_s32(vget_high_s32(a.val[1]), vget_high_s32(b.val[1]));
  }
  static F to_f32(I a) { return vcvtq_f32_s32(a); }
  static F as_f32(I a) { return vreinterpretq_f32_s32(a); }  // the same bits
  static I round_to_i32(F a) { return vcvtnq_s32_f32(a); }  // round half to even

  static I load_u8_i32(const uint8_t* p) {
    uint32_t word;
    __builtin_memcpy(&word, p, 4);
    const uint16x8_t wide = vmovl_u8(vcreate_u8(word));
    return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(wide)));
  }
  static F load_u8(const uint8_t* p) { return to_f32(load_u8_i32(p)); }
  static void store_u8(uint8_t* p, F v) {
    const I i = round_to_i32(min(max(v, zero()), set1(255.0f)));
    const uint16x4_t words = vqmovun_s32(i);
    const uint8x8_t bytes = vqmovn_u16(vcombine_u16(words, words));
    const uint32_t word = vget_lane_u32(vreinterpret_u32_u8(bytes), 0);
    __builtin_memcpy(p, &word, 4);
  }
  // 4 packed RGB pixels -> 4 lanes 0x00BBGGRR. Reads 4 bytes past the 12 it uses.
  static I load_rgb(const uint8_t* p) {
    static const uint8_t kShuffle[16] = {0, 1, 2, 255, 3, 4, 5, 255, 6, 7, 8, 255, 9, 10, 11, 255};
    return vreinterpretq_s32_u8(vqtbl1q_u8(vld1q_u8(p), vld1q_u8(kShuffle)));
  }
  static constexpr int kRgbOverread = 4;
  static I load_rgba(const uint8_t* p) { return vreinterpretq_s32_u8(vld1q_u8(p)); }
  static void store_rgba(uint8_t* p, I v) { vst1q_u8(p, vreinterpretq_u8_s32(v)); }

  using B = uint8x16_t;
  static B load_bytes(const uint8_t* p) { return vld1q_u8(p); }
  static void store_bytes(uint8_t* p, B v) { vst1q_u8(p, v); }
  static B min_u8(B a, B b) { return vminq_u8(a, b); }
  static B sub_u8(B a, B b) { return vsubq_u8(a, b); }
  static B max_u8(B a, B b) { return vmaxq_u8(a, b); }
  // Bytes of the low (high) halves of a and b, interleaved a0 b0 a1 b1 ... (one 16-byte lane).
  static B zip_lo_u8(B a, B b) { return vzip1q_u8(a, b); }
  static B zip_hi_u8(B a, B b) { return vzip2q_u8(a, b); }
  static void store_lanes16(uint8_t* const (&p)[NB / 16], B v) { vst1q_u8(p[0], v); }
};

}  // namespace cleancut::neon
