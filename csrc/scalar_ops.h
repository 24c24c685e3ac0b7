// Per-element helpers shared by the scalar oracles and the SIMD kernels' set-up code.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace cleancut {

// Clamp to [0, 255] and round half to even: the same result as the SIMD float->int conversions.
static inline uint8_t to_u8(float v) {
  v = std::min(std::max(v, 0.0f), 255.0f);
  return static_cast<uint8_t>(std::nearbyint(v));
}

// round(v / 255) for 0 <= v <= 255 * 255, exactly.
static inline uint32_t div255(uint32_t v) {
  v += 128;
  return (v + (v >> 8)) >> 8;
}

// Symmetric reflection (d c b a | a b c d | d c b a), valid for any i, also far outside [0, n).
static inline int64_t reflect_index(int64_t i, int64_t n) {
  const int64_t period = 2 * n;
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - 1 - i;
}

}  // namespace cleancut
