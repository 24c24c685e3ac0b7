#pragma once
#include "kernels.h"
#include "resample_coeffs.h"

namespace cleancut {

// Pillow's clip8: floor(sum / 2^kFixedPointBits) clamped to 0..255.
static inline uint8_t clip8(int32_t sum) {
  const int32_t v = sum >> kFixedPointBits;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}
constexpr int32_t kFixedPointHalf = 1 << (kFixedPointBits - 1);

// Both passes' tables, and the source rows the vertical pass reads for output rows [y0, y1):
// [first_row, first_row + rows).
struct PrepareTables {
  std::shared_ptr<const ResampleCoeffs> vertical, horizontal;
  int64_t first_row, rows;
  PrepareTables(ImageU8 src, int64_t out_h, int64_t out_w, int64_t y0, int64_t y1)
      : vertical(lanczos_coeffs(src.height, out_h)), horizontal(lanczos_coeffs(src.width, out_w)) {
    first_row = vertical->start[y0];
    rows = vertical->start[y1 - 1] + vertical->count[y1 - 1] - first_row;
  }
};

// rembg's (v / max(v) - mean) / std as one multiply-add per channel: v * scale + offset.
struct ChannelAffine {
  float scale[3];
  float offset[3];
};

static inline ChannelAffine normalise_affine(float image_max, const Normalisation& norm) {
  const double divisor = image_max > 1e-6f ? image_max : 1e-6;
  ChannelAffine a;
  for (int c = 0; c < 3; ++c) {
    a.scale[c] = static_cast<float>(1.0 / (divisor * norm.std[c]));
    a.offset[c] = static_cast<float>(-static_cast<double>(norm.mean[c]) / norm.std[c]);
  }
  return a;
}

}  // namespace cleancut
