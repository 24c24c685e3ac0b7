// Scalar oracle: colour + alpha -> RGBA (straight, cut out, premultiplied, or over a background colour).
#include "kernels.h"
#include "scalar_ops.h"

namespace cleancut::scalar {

void compose(ImageU8 rgb, ImageU8 alpha, MutImageU8 dst, ComposeMode mode, const uint8_t bg[4]) {
  const float bg_alpha = bg[3];
  for (int64_t y = 0; y < rgb.height; ++y) {
    const uint8_t* in = rgb.data + y * rgb.row_stride;
    const uint8_t* mask = alpha.data + y * alpha.row_stride;
    uint8_t* out = dst.data + y * dst.row_stride;
    for (int64_t x = 0; x < rgb.width; ++x) {
      const uint8_t* px = in + x * rgb.channels;
      uint32_t a = mask[x];
      if (rgb.channels == 4) a = div255(a * px[3]);
      uint8_t* o = out + 4 * x;
      switch (mode) {
        case ComposeMode::straight:
          for (int c = 0; c < 3; ++c) o[c] = px[c];
          o[3] = static_cast<uint8_t>(a);
          break;
        case ComposeMode::cutout:
          for (int c = 0; c < 3; ++c) o[c] = a == 0 ? 0 : px[c];
          o[3] = static_cast<uint8_t>(a);
          break;
        case ComposeMode::premultiplied:
          for (int c = 0; c < 3; ++c) o[c] = static_cast<uint8_t>(div255(px[c] * a));
          o[3] = static_cast<uint8_t>(a);
          break;
        case ComposeMode::over_color: {
          const float fa = static_cast<float>(a);
          const float behind = bg_alpha * (255.0f - fa) / 255.0f;
          const float total = fa + behind;
          for (int c = 0; c < 3; ++c) {
            const float blended = (static_cast<float>(px[c]) * fa + static_cast<float>(bg[c]) * behind) / total;
            o[c] = total > 0.0f ? to_u8(blended) : 0;
          }
          o[3] = to_u8(total);
          break;
        }
      }
    }
  }
}

}  // namespace cleancut::scalar
