#include "morphology_simd.h"
#include "vec_avx512.h"

namespace cleancut::avx512 {

void morphology(ImageU8 src, MutImageU8 dst, MorphOp op, MorphShape shape, int radius) {
  Morphology<SimdRows<Vec>>{op, src, dst, radius}.run(shape);
}

}  // namespace cleancut::avx512
