#include "head_simd.h"
#include "vec_neon.h"

namespace cleancut::neon {

void fuse_side_maps(const SideMap* maps, const float* weights, int64_t count, float bias, MutPlaneF32 dst) {
  fuse_side_maps_simd<Vec>(maps, weights, count, bias, dst);
}

}  // namespace cleancut::neon
