#include "resample_coeffs.h"

#include <algorithm>
#include <cmath>
#include <list>
#include <mutex>

namespace cleancut {

static double sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= M_PI;
  return std::sin(x) / x;
}

static double lanczos3(double x) { return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3.0) : 0.0; }

static ResampleCoeffs compute_lanczos_coeffs(int64_t in_size, int64_t out_size) {
  constexpr int64_t kWidestVector = 16;
  ResampleCoeffs c;
  c.out_size = out_size;
  c.padded_out = (out_size + kWidestVector - 1) / kWidestVector * kWidestVector;
  c.start.resize(out_size);
  c.count.resize(out_size);

  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double filter_scale = std::max(scale, 1.0);
  const double support = 3.0 * filter_scale;
  const double inverse_scale = 1.0 / filter_scale;  // multiplied, not divided: Pillow's rounding
  const int64_t max_taps = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  std::vector<double> weights(out_size * max_taps);  // [x * max_taps + k]
  for (int64_t x = 0; x < out_size; ++x) {
    const double center = (x + 0.5) * scale;
    const int64_t lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in_size);
    double* w = &weights[x * max_taps];
    double total = 0.0;
    for (int64_t i = lo; i < hi; ++i) {
      w[i - lo] = lanczos3((i - center + 0.5) * inverse_scale);
      total += w[i - lo];
    }
    if (total != 0.0) {
      for (int64_t i = lo; i < hi; ++i) w[i - lo] /= total;
    }
    c.start[x] = static_cast<int32_t>(lo);
    c.count[x] = static_cast<int32_t>(hi - lo);
    c.taps = std::max<int64_t>(c.taps, hi - lo);
  }

  c.weights.assign(c.taps * c.padded_out, 0.0f);
  c.fixed.assign(c.taps * c.padded_out, 0);
  c.index.assign(c.taps * c.padded_out, 0);
  for (int64_t k = 0; k < c.taps; ++k) {
    for (int64_t x = 0; x < out_size; ++x) {
      const int64_t entry = k * c.padded_out + x;
      c.index[entry] = static_cast<int32_t>(std::min<int64_t>(c.start[x] + k, in_size - 1));
      if (k < c.count[x]) {
        const double w = weights[x * max_taps + k];
        c.weights[entry] = static_cast<float>(w);
        c.fixed[entry] = static_cast<int32_t>(w < 0 ? -0.5 + w * (1 << kFixedPointBits) : 0.5 + w * (1 << kFixedPointBits));
      }
    }
  }
  return c;
}

std::shared_ptr<const ResampleCoeffs> lanczos_coeffs(int64_t in_size, int64_t out_size) {
  // Pipelines resize between the same few sizes over and over (every photo to 320x320, the mask
  // back to the photo's size), and computing the weights costs thousands of sin() calls.
  constexpr size_t kCached = 16;
  static std::mutex mutex;
  static std::list<std::pair<std::pair<int64_t, int64_t>, std::shared_ptr<const ResampleCoeffs>>> recent;
  const std::pair<int64_t, int64_t> key{in_size, out_size};
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto it = recent.begin(); it != recent.end(); ++it) {
      if (it->first == key) {
        recent.splice(recent.begin(), recent, it);
        return it->second;
      }
    }
  }
  auto coeffs = std::make_shared<const ResampleCoeffs>(compute_lanczos_coeffs(in_size, out_size));
  std::lock_guard<std::mutex> lock(mutex);
  recent.emplace_front(key, coeffs);
  if (recent.size() > kCached) recent.pop_back();
  return coeffs;
}

}  // namespace cleancut
