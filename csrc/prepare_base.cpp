// Scalar oracle for prepare: Pillow's LANCZOS resize, bit for bit (fixed point, horizontal pass
// into an 8-bit intermediate, then vertical), then rembg's normalisation into planar float32.
#include <algorithm>
#include <vector>

#include "prepare_common.h"

namespace cleancut::scalar {

float prepare_rows(ImageU8 src, float* dst, int64_t out_h, int64_t out_w, int64_t y0, int64_t y1) {
  const PrepareTables tables(src, out_h, out_w, y0, y1);
  const ResampleCoeffs &cy = *tables.vertical, &cx = *tables.horizontal;
  const int64_t plane = out_h * out_w, rows = tables.rows, first_row = tables.first_row;

  // Horizontal pass over the source rows these output rows read: planar 8-bit intermediate,
  // [channel][row - first_row][x].
  std::vector<uint8_t> horizontal(3 * rows * out_w);
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* in = src.data + (first_row + r) * src.row_stride;
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t x = 0; x < out_w; ++x) {
        int32_t sum = kFixedPointHalf;
        for (int64_t k = 0; k < cx.count[x]; ++k) {
          sum += in[(cx.start[x] + k) * src.channels + c] * cx.fixed[k * cx.padded_out + x];
        }
        horizontal[(c * rows + r) * out_w + x] = clip8(sum);
      }
    }
  }

  float image_max = 0.0f;
  for (int64_t c = 0; c < 3; ++c) {
    for (int64_t y = y0; y < y1; ++y) {
      float* out = dst + c * plane + y * out_w;
      for (int64_t x = 0; x < out_w; ++x) {
        int32_t sum = kFixedPointHalf;
        for (int64_t k = 0; k < cy.count[y]; ++k) {
          sum += horizontal[(c * rows + cy.start[y] - first_row + k) * out_w + x] * cy.fixed[k * cy.padded_out + y];
        }
        out[x] = clip8(sum);
        image_max = std::max(image_max, out[x]);
      }
    }
  }
  return image_max;
}

void normalise(float* dst, int64_t plane, float image_max, const Normalisation& norm) {
  const ChannelAffine affine = normalise_affine(image_max, norm);
  for (int64_t c = 0; c < 3; ++c) {
    float* out = dst + c * plane;
    for (int64_t i = 0; i < plane; ++i) out[i] = out[i] * affine.scale[c] + affine.offset[c];
  }
}

}  // namespace cleancut::scalar
