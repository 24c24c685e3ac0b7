// Scalar oracle: min-max normalise the saliency map, Lanczos-3 resample it to the image size.
#include <algorithm>
#include <vector>

#include "kernels.h"
#include "resample_coeffs.h"
#include "scalar_ops.h"

namespace cleancut::scalar {

void upsample_mask(PlaneF32 src, MutImageU8 dst) {
  float lo = src.data[0], hi = src.data[0];
  for (int64_t r = 0; r < src.height; ++r) {
    for (int64_t x = 0; x < src.width; ++x) {
      lo = std::min(lo, src.data[r * src.row_stride + x]);
      hi = std::max(hi, src.data[r * src.row_stride + x]);
    }
  }
  const float scale = hi > lo ? 255.0f / (hi - lo) : 0.0f;
  const auto cx_table = lanczos_coeffs(src.width, dst.width);
  const ResampleCoeffs& cx = *cx_table;
  const auto cy_table = lanczos_coeffs(src.height, dst.height);
  const ResampleCoeffs& cy = *cy_table;

  std::vector<float> rows(src.height * cx.padded_out);  // each source row resampled to dst.width
  for (int64_t r = 0; r < src.height; ++r) {
    const float* in = src.data + r * src.row_stride;
    for (int64_t x = 0; x < dst.width; ++x) {
      float acc = 0.0f;
      for (int64_t k = 0; k < cx.count[x]; ++k) acc = acc + cx.weights[k * cx.padded_out + x] * in[cx.start[x] + k];
      rows[r * cx.padded_out + x] = (acc - lo) * scale;
    }
  }
  for (int64_t y = 0; y < dst.height; ++y) {
    uint8_t* out = dst.data + y * dst.row_stride;
    for (int64_t x = 0; x < dst.width; ++x) {
      float acc = 0.0f;
      for (int64_t k = 0; k < cy.count[y]; ++k) {
        acc = acc + cy.weights[k * cy.padded_out + y] * rows[(cy.start[y] + k) * cx.padded_out + x];
      }
      out[x] = to_u8(acc);
    }
  }
}

}  // namespace cleancut::scalar
