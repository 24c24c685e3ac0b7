// Scalar oracle for erode/dilate: the shared algorithm with plain per-byte row combines.
#include <algorithm>

#include "morphology_impl.h"

namespace cleancut::scalar {

struct ScalarRows {
  static constexpr int64_t kStripRows = 16;
  static void combine(MorphOp op, const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n) {
    if (op == MorphOp::erode) {
      for (int64_t i = 0; i < n; ++i) out[i] = std::min(a[i], b[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) out[i] = std::max(a[i], b[i]);
    }
  }
  static void transpose(const uint8_t* src, int64_t src_stride, uint8_t* dst, int64_t dst_stride, int64_t rows,
                        int64_t cols) {
    transpose_bytes(src, src_stride, dst, dst_stride, 0, rows, 0, cols);
  }
};

void morphology(ImageU8 src, MutImageU8 dst, MorphOp op, MorphShape shape, int radius) {
  Morphology<ScalarRows>{op, src, dst, radius}.run(shape);
}

}  // namespace cleancut::scalar
