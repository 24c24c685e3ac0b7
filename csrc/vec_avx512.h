// AVX-512 (F/BW/VL/DQ) vector primitives: 16 float/int32 lanes, 64 byte lanes.
// Only for *_avx512.cpp files.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace cleancut::avx512 {

struct Vec {
  static constexpr int N = 16;
  static constexpr int NB = 64;
  using F = __m512;
  using I = __m512i;

  static F zero() { return _mm512_setzero_ps(); }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }

  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F gt_select(F a, F b, F if_true, F if_false) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ), if_false, if_true);
  }
  static F gather(const float* base, I index) { return _mm512_i32gather_ps(index, base, 4); }
  // lanes of the 32 floats lo:hi picked by idx (0..31).
  static F permute2(F lo, F hi, I idx) { return _mm512_permutex2var_ps(lo, idx, hi); }
  static float reduce_max(F v) { return _mm512_reduce_max_ps(v); }
  static float reduce_min(F v) { return _mm512_reduce_min_ps(v); }

  static I load_i32(const int32_t* p) { return _mm512_loadu_si512(p); }
  static I set1_i32(int32_t v) { return _mm512_set1_epi32(v); }
  static I add_i32(I a, I b) { return _mm512_add_epi32(a, b); }
  static I sub_i32(I a, I b) { return _mm512_sub_epi32(a, b); }
  static I mul_i32(I a, I b) { return _mm512_mullo_epi32(a, b); }
  static I and_i32(I a, I b) { return _mm512_and_si512(a, b); }
  static I or_i32(I a, I b) { return _mm512_or_si512(a, b); }
  template <int S> static I shr_i32(I a) { return _mm512_srli_epi32(a, S); }
  template <int S> static I shl_i32(I a) { return _mm512_slli_epi32(a, S); }
  template <int S> static I sar_i32(I a) { return _mm512_srai_epi32(a, S); }
  static I min_i32(I a, I b) { return _mm512_min_epi32(a, b); }
  static I max_i32(I a, I b) { return _mm512_max_epi32(a, b); }
  static void store_i32(int32_t* p, I v) { _mm512_storeu_si512(p, v); }
  // m[r] lane c -> m[c] lane r (a 16x16 transpose of 32-bit elements).
  static void transpose(I (&m)[N]) {
    I t[16], u[16];
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = _mm512_unpacklo_epi32(m[2 * i], m[2 * i + 1]);
      t[2 * i + 1] = _mm512_unpackhi_epi32(m[2 * i], m[2 * i + 1]);
    }
    for (int i = 0; i < 4; ++i) {
      u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
      u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
      u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
      u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    // 128-bit lane L of u[4i + j] holds column 4L + j of rows 4i..4i+3.
    for (int j = 0; j < 4; ++j) {
      const I x0 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x44), x1 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xEE);
      const I y0 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x44), y1 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xEE);
      m[j] = _mm512_shuffle_i32x4(x0, y0, 0x88);
      m[4 + j] = _mm512_shuffle_i32x4(x0, y0, 0xDD);
      m[8 + j] = _mm512_shuffle_i32x4(x1, y1, 0x88);
      m[12 + j] = _mm512_shuffle_i32x4(x1, y1, 0xDD);
    }
  }
  static F to_f32(I a) { return _mm512_cvtepi32_ps(a); }
  static F as_f32(I a) { return _mm512_castsi512_ps(a); }  // the same bits
  static I round_to_i32(F a) { return _mm512_cvtps_epi32(a); }

  static I load_u8_i32(const uint8_t* p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static F load_u8(const uint8_t* p) { return to_f32(load_u8_i32(p)); }
  static void store_u8(uint8_t* p, F v) {
    I i = round_to_i32(min(max(v, zero()), set1(255.0f)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtusepi32_epi8(i));
  }
  static I load_rgb(const uint8_t* p) {
    const __m512i shuffle = _mm512_broadcast_i32x4(
        _mm_setr_epi8(0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1));
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 12)), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 24)), 2);
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 36)), 3);
    return _mm512_shuffle_epi8(v, shuffle);
  }
  static constexpr int kRgbOverread = 4;
  static I load_rgba(const uint8_t* p) { return _mm512_loadu_si512(p); }
  static void store_rgba(uint8_t* p, I v) { _mm512_storeu_si512(p, v); }

  using B = __m512i;
  static B load_bytes(const uint8_t* p) { return _mm512_loadu_si512(p); }
  static void store_bytes(uint8_t* p, B v) { _mm512_storeu_si512(p, v); }
  static B min_u8(B a, B b) { return _mm512_min_epu8(a, b); }
  static B sub_u8(B a, B b) { return _mm512_sub_epi8(a, b); }
  static B max_u8(B a, B b) { return _mm512_max_epu8(a, b); }
  // Bytes of the low (high) halves of each 16-byte lane of a and b, interleaved a0 b0 a1 b1 ...
  static B zip_lo_u8(B a, B b) { return _mm512_unpacklo_epi8(a, b); }
  static B zip_hi_u8(B a, B b) { return _mm512_unpackhi_epi8(a, b); }
  static void store_lanes16(uint8_t* const (&p)[NB / 16], B v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p[0]), _mm512_castsi512_si128(v));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p[1]), _mm512_extracti32x4_epi32(v, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p[2]), _mm512_extracti32x4_epi32(v, 2));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p[3]), _mm512_extracti32x4_epi32(v, 3));
  }
};

}  // namespace cleancut::avx512
