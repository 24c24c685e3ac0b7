#include "matting_simd.h"
#include "vec_avx512.h"

namespace cleancut::avx512 {

CLEANCUT_DEFINE_MATTING_KERNELS

}  // namespace cleancut::avx512
