// Scalar oracle: U²-Net's fusion head, sigmoid(bias + sum of weight_i * bilinear_upsample(side map_i)).
#include <cmath>
#include <cstring>
#include <vector>

#include "head_common.h"
#include "kernels.h"

namespace cleancut::scalar {
namespace {

float sigmoid(float z) {
  const float x = std::min(std::max(-z, kExpLow), kExpHigh);
  const int32_t n = static_cast<int32_t>(std::nearbyint(x * kLog2e));
  const float nf = static_cast<float>(n);
  float r = x - nf * kLn2High;
  r = r - nf * kLn2Low;
  float p = kExpPoly[0];
  for (int k = 1; k < 6; ++k) p = p * r + kExpPoly[k];
  const float e = p * (r * r) + r + 1.0f;
  const int32_t bits = (n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return 1.0f / (1.0f + e * scale);
}

// A 3x3 convolution's nine taps summed shifted onto the bias; taps reaching outside add nothing.
void sum_taps(const SideMap& map, float* out) {
  const PlaneF32& tap0 = map.plane;
  const int64_t height = tap0.height, width = tap0.width;
  for (int64_t i = 0; i < height * width; ++i) out[i] = map.bias;
  for (int64_t dy = 0; dy < 3; ++dy) {
    for (int64_t dx = 0; dx < 3; ++dx) {
      const float* tap = tap0.data + (dy * 3 + dx) * map.tap_stride;
      const TapWindow in = tap_window(height, width, dy, dx);
      for (int64_t y = in.y0; y < in.y1; ++y) {
        const float* row = tap + (y + dy - 1) * tap0.row_stride + dx - 1;
        for (int64_t x = in.x0; x < in.x1; ++x) out[y * width + x] = out[y * width + x] + row[x];
      }
    }
  }
}

}  // namespace

void fuse_side_maps(const SideMap* side_maps, const float* weights, int64_t count, float bias, MutPlaneF32 dst) {
  for (int64_t y = 0; y < dst.height; ++y) {
    for (int64_t x = 0; x < dst.width; ++x) dst.data[y * dst.row_stride + x] = bias;
  }
  std::vector<float> rows, summed;  // the map's rows resampled to dst.width; a map summed from its taps
  for (int64_t m = 0; m < count; ++m) {
    PlaneF32 map = side_maps[m].plane;
    if (side_maps[m].taps == 9) {
      summed.resize(map.height * map.width);
      sum_taps(side_maps[m], summed.data());
      map = {summed.data(), map.height, map.width, map.width};
    }
    if (map.height == dst.height && map.width == dst.width) {  // already full size: no resampling
      for (int64_t y = 0; y < dst.height; ++y) {
        for (int64_t x = 0; x < dst.width; ++x) dst.data[y * dst.row_stride + x] += weights[m] * map.data[y * map.row_stride + x];
      }
      continue;
    }
    const BilinearTaps cx = bilinear_taps(map.width, dst.width), cy = bilinear_taps(map.height, dst.height);
    rows.resize(map.height * dst.width);
    for (int64_t r = 0; r < map.height; ++r) {
      const float* in = map.data + r * map.row_stride;
      for (int64_t x = 0; x < dst.width; ++x) {
        rows[r * dst.width + x] = cx.first_weight[x] * in[cx.first[x]] + cx.second_weight[x] * in[cx.second[x]];
      }
    }
    for (int64_t y = 0; y < dst.height; ++y) {
      const float* top = rows.data() + cy.first[y] * dst.width;
      const float* bottom = rows.data() + cy.second[y] * dst.width;
      float* out = dst.data + y * dst.row_stride;
      for (int64_t x = 0; x < dst.width; ++x) {
        out[x] = out[x] + weights[m] * (cy.first_weight[y] * top[x] + cy.second_weight[y] * bottom[x]);
      }
    }
  }
  for (int64_t y = 0; y < dst.height; ++y) {
    for (int64_t x = 0; x < dst.width; ++x) dst.data[y * dst.row_stride + x] = sigmoid(dst.data[y * dst.row_stride + x]);
  }
}

}  // namespace cleancut::scalar
