// SIMD PNG Up filter, templated on an ISA's Vec (byte-wise wrapping subtraction).
#pragma once
#include <cstring>

#include "kernels.h"
#include "simd_loop.h"

namespace cleancut {
namespace {

template <class V>
void png_filter_up_simd(ImageU8 src, uint8_t* dst) {
  const int64_t row_bytes = src.width * src.channels;
  for (int64_t y = 0; y < src.height; ++y) {
    const uint8_t* row = src.data + y * src.row_stride;
    uint8_t* out = dst + y * (row_bytes + 1);
    out[0] = 2;
    if (y == 0) {
      std::memcpy(out + 1, row, row_bytes);
      continue;
    }
    const uint8_t* above = row - src.row_stride;
    vector_loop<V::NB>(row_bytes, [&](auto tail, int64_t i, int64_t count) {
      store_bytes<V>(out + 1 + i, V::sub_u8(load_bytes<V>(row + i, count, tail), load_bytes<V>(above + i, count, tail)), count, tail);
    });
  }
}

}  // namespace
}  // namespace cleancut
