#pragma once
#include <cmath>
#include <vector>

namespace cleancut {

// 2r+1 normalised Gaussian taps (sigma == 0: the identity).
static inline std::vector<float> gaussian_weights(float sigma, int radius) {
  std::vector<double> w(2 * radius + 1);
  double total = 0.0;
  for (int k = -radius; k <= radius; ++k) {
    w[k + radius] = sigma > 0.0f ? std::exp(-0.5 * k * k / (double(sigma) * sigma)) : (k == 0 ? 1.0 : 0.0);
    total += w[k + radius];
  }
  std::vector<float> out(w.size());
  for (size_t i = 0; i < w.size(); ++i) out[i] = static_cast<float>(w[i] / total);
  return out;
}

}  // namespace cleancut
