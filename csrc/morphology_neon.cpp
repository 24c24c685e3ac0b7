#include "morphology_simd.h"
#include "vec_neon.h"

namespace cleancut::neon {

void morphology(ImageU8 src, MutImageU8 dst, MorphOp op, MorphShape shape, int radius) {
  Morphology<SimdRows<Vec>>{op, src, dst, radius}.run(shape);
}

}  // namespace cleancut::neon
