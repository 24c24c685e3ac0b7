#include "mask_simd.h"
#include "vec_avx512.h"

namespace cleancut::avx512 {

void upsample_mask(PlaneF32 src, MutImageU8 dst) { upsample_mask_simd<Vec>(src, dst); }

}  // namespace cleancut::avx512
