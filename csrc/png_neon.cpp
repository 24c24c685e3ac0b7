#include "png_simd.h"
#include "vec_neon.h"

namespace cleancut::neon {

void png_filter_up(ImageU8 src, uint8_t* dst) { png_filter_up_simd<Vec>(src, dst); }

}  // namespace cleancut::neon
