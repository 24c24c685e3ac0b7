#include "blur_simd.h"
#include "vec_neon.h"

namespace cleancut::neon {

void gaussian_blur(ImageU8 src, MutImageU8 dst, float sigma, int radius) { gaussian_blur_simd<Vec>(src, dst, sigma, radius); }

}  // namespace cleancut::neon
