#include "resample_coeffs.h"

#include <algorithm>
#include <cmath>

namespace cleancut {

static double sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= M_PI;
  return std::sin(x) / x;
}

static double lanczos3(double x) { return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3.0) : 0.0; }

ResampleCoeffs lanczos_coeffs(int64_t in_size, int64_t out_size) {
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
  std::vector<std::vector<double>> per_output(out_size);
  for (int64_t x = 0; x < out_size; ++x) {
    const double center = (x + 0.5) * scale;
    const int64_t lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in_size);
    std::vector<double>& w = per_output[x];
    double total = 0.0;
    for (int64_t i = lo; i < hi; ++i) {
      w.push_back(lanczos3((i - center + 0.5) * inverse_scale));
      total += w.back();
    }
    if (total != 0.0) {
      for (double& v : w) v /= total;
    }
    c.start[x] = static_cast<int32_t>(lo);
    c.count[x] = static_cast<int32_t>(w.size());
    c.taps = std::max<int64_t>(c.taps, static_cast<int64_t>(w.size()));
  }

  c.weights.assign(c.taps * c.padded_out, 0.0f);
  c.fixed.assign(c.taps * c.padded_out, 0);
  c.index.assign(c.taps * c.padded_out, 0);
  for (int64_t k = 0; k < c.taps; ++k) {
    for (int64_t x = 0; x < c.padded_out; ++x) {
      const int64_t entry = k * c.padded_out + x;
      if (x < out_size) {
        c.index[entry] = static_cast<int32_t>(std::min<int64_t>(c.start[x] + k, in_size - 1));
        if (k < c.count[x]) {
          const double w = per_output[x][k];
          c.weights[entry] = static_cast<float>(w);
          c.fixed[entry] = static_cast<int32_t>(w < 0 ? -0.5 + w * (1 << kFixedPointBits) : 0.5 + w * (1 << kFixedPointBits));
        }
      }
    }
  }
  return c;
}

}  // namespace cleancut
