#include "prepare_simd.h"
#include "vec_neon.h"

namespace cleancut::neon {

void prepare(ImageU8 src, float* dst, int64_t out_h, int64_t out_w, const Normalisation& norm) {
  prepare_simd<Vec>(src, dst, out_h, out_w, norm);
}

}  // namespace cleancut::neon
