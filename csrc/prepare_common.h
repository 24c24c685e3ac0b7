#pragma once
#include "kernels.h"

namespace cleancut {

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
