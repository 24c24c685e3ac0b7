#include "prepare_simd.h"
#include "vec_avx512.h"

namespace cleancut::avx512 {

float prepare_rows(ImageU8 src, float* dst, int64_t out_h, int64_t out_w, int64_t y0, int64_t y1) {
  return prepare_rows_simd<Vec>(src, dst, out_h, out_w, y0, y1);
}

void normalise(float* dst, int64_t plane, float image_max, const Normalisation& norm) {
  normalise_simd<Vec>(dst, plane, image_max, norm);
}

}  // namespace cleancut::avx512
