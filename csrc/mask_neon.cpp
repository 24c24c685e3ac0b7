#include "mask_simd.h"
#include "vec_neon.h"

namespace cleancut::neon {

void upsample_mask(PlaneF32 src, MutImageU8 dst) { upsample_mask_simd<Vec>(src, dst); }

}  // namespace cleancut::neon
