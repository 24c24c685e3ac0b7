#include "png_simd.h"
#include "vec_avx2.h"

namespace cleancut::avx2 {

void png_filter_up(ImageU8 src, uint8_t* dst) { png_filter_up_simd<Vec>(src, dst); }

}  // namespace cleancut::avx2
