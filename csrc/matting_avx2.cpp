#include "matting_simd.h"
#include "vec_avx2.h"

namespace cleancut::avx2 {

void estimate_foreground(ImageU8 image, ImageU8 alpha, MutImageU8 dst, MutImageU8 background, int large_radius, int small_radius) {
  estimate_foreground_impl<MattingSimd<Vec>>(image, alpha, dst, background, large_radius, small_radius);
}

void estimate_foreground_ml(ImageU8 image, ImageU8 alpha, MutImageU8 dst, int big_iterations, int small_iterations) {
  estimate_foreground_ml_impl<MattingSimd<Vec>>(image, alpha, dst, big_iterations, small_iterations);
}

void guided_filter(ImageU8 guide, ImageU8 src, MutImageU8 dst, int radius, float eps) {
  guided_filter_impl<MattingSimd<Vec>>(guide, src, dst, radius, eps);
}

}  // namespace cleancut::avx2
