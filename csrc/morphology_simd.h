// SIMD row combine for the shared erode/dilate algorithm (morphology_impl.h).
#pragma once
#include "morphology_impl.h"
#include "simd_loop.h"

namespace cleancut {
namespace {

template <class V>
struct SimdRows {
  static void combine(MorphOp op, const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n) {
    vector_loop<V::NB>(n, [&](auto tail, int64_t i, int64_t count) {
      const auto va = load_bytes<V>(a + i, count, tail), vb = load_bytes<V>(b + i, count, tail);
      store_bytes<V>(out + i, op == MorphOp::erode ? V::min_u8(va, vb) : V::max_u8(va, vb), count, tail);
    });
  }
};

}  // namespace
}  // namespace cleancut
