// AVX2+FMA vector primitives: 8 float/int32 lanes, 32 byte lanes. Only for *_avx2.cpp files.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace cleancut::avx2 {

struct Vec {
  static constexpr int N = 8;    // float / int32 lanes
  static constexpr int NB = 32;  // byte lanes
  using F = __m256;
  using I = __m256i;

  static F zero() { return _mm256_setzero_ps(); }
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }

  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F gt_select(F a, F b, F if_true, F if_false) {  // a > b ? if_true : if_false
    return _mm256_blendv_ps(if_false, if_true, _mm256_cmp_ps(a, b, _CMP_GT_OQ));
  }
  static F gather(const float* base, I index) { return _mm256_i32gather_ps(base, index, 4); }
  // lanes of the 16 floats lo:hi picked by idx (0..15), like one 16-wide table lookup.
  static F permute2(F lo, F hi, I idx) {
    const F from_lo = _mm256_permutevar8x32_ps(lo, idx), from_hi = _mm256_permutevar8x32_ps(hi, idx);
    return _mm256_blendv_ps(from_lo, from_hi, _mm256_castsi256_ps(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(7))));
  }
  static float reduce_max(F v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
  }
  static float reduce_min(F v) {
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    m = _mm_min_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
  }

  static I load_i32(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static I set1_i32(int32_t v) { return _mm256_set1_epi32(v); }
  static I add_i32(I a, I b) { return _mm256_add_epi32(a, b); }
  static I sub_i32(I a, I b) { return _mm256_sub_epi32(a, b); }
  static I mul_i32(I a, I b) { return _mm256_mullo_epi32(a, b); }
  static I and_i32(I a, I b) { return _mm256_and_si256(a, b); }
  static I or_i32(I a, I b) { return _mm256_or_si256(a, b); }
  template <int S> static I shr_i32(I a) { return _mm256_srli_epi32(a, S); }
  template <int S> static I shl_i32(I a) { return _mm256_slli_epi32(a, S); }
  template <int S> static I sar_i32(I a) { return _mm256_srai_epi32(a, S); }
  static I min_i32(I a, I b) { return _mm256_min_epi32(a, b); }
  static I max_i32(I a, I b) { return _mm256_max_epi32(a, b); }
  static void store_i32(int32_t* p, I v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  // m[r] lane c -> m[c] lane r (an 8x8 transpose of 32-bit elements).
  static void transpose(I (&m)[N]) {
    I t[8], u[8];
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = _mm256_unpacklo_epi32(m[2 * i], m[2 * i + 1]);
      t[2 * i + 1] = _mm256_unpackhi_epi32(m[2 * i], m[2 * i + 1]);
    }
    for (int i = 0; i < 2; ++i) {
      u[4 * i] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
      u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
      u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
      u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    for (int j = 0; j < 4; ++j) {
      m[j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x20);
      m[4 + j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x31);
    }
  }
  static F to_f32(I a) { return _mm256_cvtepi32_ps(a); }
  static F as_f32(I a) { return _mm256_castsi256_ps(a); }  // the same bits
  static I round_to_i32(F a) { return _mm256_cvtps_epi32(a); }  // round half to even

  // N bytes <-> N lanes.
  static I load_u8_i32(const uint8_t* p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  }
  static F load_u8(const uint8_t* p) { return to_f32(load_u8_i32(p)); }
  // Clamp to [0, 255], round half to even, store N bytes.
  static void store_u8(uint8_t* p, F v) {
    I i = round_to_i32(min(max(v, zero()), set1(255.0f)));
    __m128i lo = _mm256_castsi256_si128(i), hi = _mm256_extracti128_si256(i, 1);
    __m128i words = _mm_packus_epi32(lo, hi);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packus_epi16(words, words));
  }
  // N packed RGB pixels -> N lanes 0x00BBGGRR. Reads 4 bytes past the 3N it uses.
  static I load_rgb(const uint8_t* p) {
    const __m128i shuffle = _mm_setr_epi8(0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1);
    __m128i lo = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), shuffle);
    __m128i hi = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 12)), shuffle);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
  }
  static constexpr int kRgbOverread = 4;
  static I load_rgba(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void store_rgba(uint8_t* p, I v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }

  // NB byte lanes.
  using B = __m256i;
  static B load_bytes(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void store_bytes(uint8_t* p, B v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static B min_u8(B a, B b) { return _mm256_min_epu8(a, b); }
  static B sub_u8(B a, B b) { return _mm256_sub_epi8(a, b); }
  static B max_u8(B a, B b) { return _mm256_max_epu8(a, b); }
  // Bytes of the low (high) halves of each 16-byte lane of a and b, interleaved a0 b0 a1 b1 ...
  static B zip_lo_u8(B a, B b) { return _mm256_unpacklo_epi8(a, b); }
  static B zip_hi_u8(B a, B b) { return _mm256_unpackhi_epi8(a, b); }
  static void store_lanes16(uint8_t* const (&p)[NB / 16], B v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p[0]), _mm256_castsi256_si128(v));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p[1]), _mm256_extracti128_si256(v, 1));
  }
};

}  // namespace cleancut::avx2
