#include "morphology_simd.h"
#include "vec_avx2.h"

namespace cleancut::avx2 {

void morphology(ImageU8 src, MutImageU8 dst, MorphOp op, MorphShape shape, int radius) {
  Morphology<SimdRows<Vec>>{op}.run(src, dst, shape, radius);
}

}  // namespace cleancut::avx2
