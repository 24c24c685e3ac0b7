#include "blur_simd.h"
#include "vec_avx512.h"

namespace cleancut::avx512 {

void gaussian_blur(ImageU8 src, MutImageU8 dst, float sigma, int radius) { gaussian_blur_simd<Vec>(src, dst, sigma, radius); }

}  // namespace cleancut::avx512
