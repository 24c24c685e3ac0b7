// Scalar oracle: Lanczos-3 resample (vertical, then horizontal per output row) + normalisation.
#include <algorithm>
#include <vector>

#include "prepare_common.h"
#include "resample_coeffs.h"

namespace cleancut::scalar {

void prepare(ImageU8 src, float* dst, int64_t out_h, int64_t out_w, const Normalisation& norm) {
  const ResampleCoeffs cy = lanczos_coeffs(src.height, out_h);
  const ResampleCoeffs cx = lanczos_coeffs(src.width, out_w);
  const int64_t row_len = src.width * src.channels;
  const int64_t plane = out_h * out_w;
  std::vector<float> column_sums(row_len);
  float image_max = 0.0f;

  for (int64_t y = 0; y < out_h; ++y) {
    for (int64_t j = 0; j < row_len; ++j) {
      float acc = 0.0f;
      for (int64_t k = 0; k < cy.count[y]; ++k) {
        const uint8_t* row = src.data + (cy.start[y] + k) * src.row_stride;
        acc = acc + cy.weights[k * cy.padded_out + y] * static_cast<float>(row[j]);
      }
      column_sums[j] = acc;
    }
    for (int64_t c = 0; c < 3; ++c) {
      float* out = dst + c * plane + y * out_w;
      for (int64_t x = 0; x < out_w; ++x) {
        float acc = 0.0f;
        for (int64_t k = 0; k < cx.count[x]; ++k) {
          acc = acc + cx.weights[k * cx.padded_out + x] * column_sums[(cx.start[x] + k) * src.channels + c];
        }
        out[x] = std::min(std::max(acc, 0.0f), 255.0f);
        image_max = std::max(image_max, out[x]);
      }
    }
  }

  const ChannelAffine affine = normalise_affine(image_max, norm);
  for (int64_t c = 0; c < 3; ++c) {
    float* out = dst + c * plane;
    for (int64_t i = 0; i < plane; ++i) out[i] = out[i] * affine.scale[c] + affine.offset[c];
  }
}

}  // namespace cleancut::scalar
