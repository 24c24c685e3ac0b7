#include "compose_simd.h"
#include "vec_neon.h"

namespace cleancut::neon {

void compose(ImageU8 rgb, ImageU8 alpha, MutImageU8 dst, ComposeMode mode, const uint8_t bg[4]) {
  ComposeSimd<Vec>::run(rgb, alpha, dst, mode, bg);
}

}  // namespace cleancut::neon
