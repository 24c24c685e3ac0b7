// Scalar oracle: separable Gaussian (columns, then the row), symmetric-reflect borders. The taps
// are symmetric, so mirrored pairs are added first and multiplied once: half the multiplies.
#include <algorithm>
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
    auto at = [&](int64_t k, int64_t x) { return src.data[reflect_index(y + k - radius, h) * src.row_stride + x]; };
    for (int64_t x = 0; x < w; ++x) {
      float acc = weights[radius] * static_cast<float>(at(radius, x));
      for (int64_t k = 0; k < radius; ++k) acc = acc + weights[k] * static_cast<float>(at(k, x) + at(taps - 1 - k, x));
      column[x] = acc;
    }
    // The row, then its reflected borders (the only places that need the index arithmetic).
    std::copy(column.begin(), column.end(), padded.begin() + radius);
    for (int64_t i = 0; i < radius; ++i) {
      padded[i] = column[reflect_index(i - radius, w)];
      padded[radius + w + i] = column[reflect_index(w + i, w)];
    }
    uint8_t* out = dst.data + y * dst.row_stride;
    for (int64_t x = 0; x < w; ++x) {
      float acc = weights[radius] * padded[x + radius];
      for (int64_t k = 0; k < radius; ++k) acc = acc + weights[k] * (padded[x + k] + padded[x + taps - 1 - k]);
      out[x] = to_u8(acc);
    }
  }
}

}  // namespace cleancut::scalar
