// Set-up shared by the scalar and SIMD fusion heads: bilinear taps and the constants of sigmoid's exp.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

namespace cleancut {
namespace {

// ONNX Resize, mode linear, half_pixel centres (PyTorch's align_corners=False): output o samples
// the source at (o + 0.5) * in / out - 0.5, clamped to [0, in - 1]. Padded with zero-weight taps
// at index 0 to a multiple of 16 entries, so full vectors never read past the source row.
struct BilinearTaps {
  std::vector<int32_t> first, second;
  std::vector<float> first_weight, second_weight;
};

inline BilinearTaps bilinear_taps(int64_t in, int64_t out) {
  const int64_t padded = (out + 15) / 16 * 16;
  BilinearTaps taps{std::vector<int32_t>(padded, 0), std::vector<int32_t>(padded, 0), std::vector<float>(padded, 0.0f),
                    std::vector<float>(padded, 0.0f)};
  for (int64_t o = 0; o < out; ++o) {
    const double at = std::clamp((o + 0.5) * static_cast<double>(in) / static_cast<double>(out) - 0.5, 0.0, double(in - 1));
    const int64_t i = static_cast<int64_t>(at);
    taps.first[o] = static_cast<int32_t>(i);
    taps.second[o] = static_cast<int32_t>(std::min(i + 1, in - 1));
    taps.second_weight[o] = static_cast<float>(at - static_cast<double>(i));
    taps.first_weight[o] = 1.0f - taps.second_weight[o];
  }
  return taps;
}

// Where tap (dy, dx) of a 3x3 convolution lands inside a height x width map: out[y][x] takes
// tap[y + dy - 1][x + dx - 1] for y0 <= y < y1, x0 <= x < x1.
struct TapWindow {
  int64_t y0, y1, x0, x1;
};

inline TapWindow tap_window(int64_t height, int64_t width, int64_t dy, int64_t dx) {
  return {std::max<int64_t>(0, 1 - dy), std::min(height, height + 1 - dy), std::max<int64_t>(0, 1 - dx),
          std::min(width, width + 1 - dx)};
}

// sigmoid(z) = 1 / (1 + exp(-z)), exp by Cephes' expf: exp(x) = 2^n * exp(r), n = round(x / ln 2),
// r = x - n ln 2 in two parts, exp(r) by a degree-7 polynomial. |z| beyond ~87 saturates to 0 or 1.
constexpr float kExpLow = -87.0f, kExpHigh = 88.0f;
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2High = 0.693359375f, kLn2Low = -2.12194440e-4f;
constexpr float kExpPoly[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                               4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

}  // namespace
}  // namespace cleancut
