// Scalar oracle: separable Gaussian (columns, then the row), symmetric-reflect borders.
#include <vector>

#include "gaussian_weights.h"
#include "kernels.h"
#include "scalar_ops.h"

namespace cleancut::scalar {

void gaussian_blur(ImageU8 src, MutImageU8 dst, float sigma, int radius) {
  const std::vector<float> weights = gaussian_weights(sigma, radius);
  const int64_t h = src.height, w = src.width, taps = 2 * radius + 1;
  std::vector<float> column(w), padded(w + 2 * radius);
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      float acc = 0.0f;
      for (int64_t k = 0; k < taps; ++k) {
        acc = acc + weights[k] * static_cast<float>(src.data[reflect_index(y + k - radius, h) * src.row_stride + x]);
      }
      column[x] = acc;
    }
    for (int64_t i = 0; i < w + 2 * radius; ++i) padded[i] = column[reflect_index(i - radius, w)];
    uint8_t* out = dst.data + y * dst.row_stride;
    for (int64_t x = 0; x < w; ++x) {
      float acc = 0.0f;
      for (int64_t k = 0; k < taps; ++k) acc = acc + weights[k] * padded[x + k];
      out[x] = to_u8(acc);
    }
  }
}

}  // namespace cleancut::scalar
