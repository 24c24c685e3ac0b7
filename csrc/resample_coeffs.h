// Lanczos-3 resampling coefficients, computed exactly as Pillow's LANCZOS filter does
// (support widened by the scale factor when downscaling, weights normalised per output).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace cleancut {

struct ResampleCoeffs {
  int64_t out_size = 0;
  int64_t padded_out = 0;  // out_size rounded up to a whole vector of the widest ISA
  int64_t taps = 0;        // the longest run of weights any output uses
  std::vector<int32_t> start;    // [out_size] first input index
  std::vector<int32_t> count;    // [out_size] number of inputs used
  // Tap-major tables for vector gathers: entry [k * padded_out + x]. Unused entries have weight 0
  // and an in-range index, so a full-width gather never reads outside the input.
  std::vector<float> weights;
  std::vector<int32_t> fixed;  // weights in Pillow's 8-bit-path fixed point (kFixedPointBits)
  std::vector<int32_t> index;
};

// Pillow's PRECISION_BITS for 8-bit images: sums start at half a unit and are floored.
constexpr int kFixedPointBits = 22;

// Shared and cached: the same (in, out) pair returns the same immutable table.
std::shared_ptr<const ResampleCoeffs> lanczos_coeffs(int64_t in_size, int64_t out_size);

}  // namespace cleancut
