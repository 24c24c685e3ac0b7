#include "matting_simd.h"
#include "vec_avx2.h"

namespace cleancut::avx2 {

CLEANCUT_DEFINE_MATTING_KERNELS

}  // namespace cleancut::avx2
