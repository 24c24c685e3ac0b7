#include "matting_simd.h"
#include "vec_neon.h"

namespace cleancut::neon {

CLEANCUT_DEFINE_MATTING_KERNELS

}  // namespace cleancut::neon
