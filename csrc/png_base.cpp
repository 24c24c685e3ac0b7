// Scalar oracle: PNG Up-filtered scanlines.
#include "kernels.h"

namespace cleancut::scalar {

void png_filter_up(ImageU8 src, uint8_t* dst) {
  const int64_t row_bytes = src.width * src.channels;
  for (int64_t y = 0; y < src.height; ++y) {
    const uint8_t* row = src.data + y * src.row_stride;
    const uint8_t* above = y > 0 ? row - src.row_stride : nullptr;
    uint8_t* out = dst + y * (row_bytes + 1);
    out[0] = 2;
    for (int64_t i = 0; i < row_bytes; ++i) out[1 + i] = static_cast<uint8_t>(row[i] - (above ? above[i] : 0));
  }
}

}  // namespace cleancut::scalar
