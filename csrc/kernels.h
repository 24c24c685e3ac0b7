// Kernel signatures and the dispatch table. Every pointer/size here was validated by the bindings.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cleancut {

// A 2-D plane of uint8 pixels with `channels` interleaved bytes per pixel and any row stride.
struct ImageU8 {
  const uint8_t* data;
  int64_t height, width, channels, row_stride;
};
struct MutImageU8 {
  uint8_t* data;
  int64_t height, width, channels, row_stride;
};
struct PlaneF32 {
  const float* data;
  int64_t height, width, row_stride;  // row_stride in elements
};
struct MutPlaneF32 {
  float* data;
  int64_t height, width, row_stride;  // row_stride in elements
};
// One of U²-Net's side maps: the map itself (taps == 1), or the nine taps of the 3x3 convolution
// that makes it (taps == 9: tap dy*3+dx is a plane of the map's size, `tap_stride` elements after
// the one before), summed shifted by (dy - 1, dx - 1) onto `bias`.
struct SideMap {
  PlaneF32 plane;  // the map, or its first tap
  int64_t taps, tap_stride;
  float bias;
};

// rgb (3 or 4 channels) + alpha -> RGBA.
// cutout: straight colour where alpha > 0 and nothing (0, 0, 0, 0) where it is 0, so the removed
// background does not travel hidden in the file (and deflates faster); straight keeps every colour.
enum class ComposeMode : int { straight = 0, premultiplied = 1, over_color = 2, cutout = 3 };
enum class MorphOp : int { erode = 0, dilate = 1 };
enum class MorphShape : int { square = 0, disk = 1 };

struct Normalisation {
  float mean[3];
  float std[3];
};

struct Kernels {
  const char* isa;
  // rembg's U²-Net input in two steps, so bands of rows can run on several threads:
  // prepare_rows: uint8 HxWx(3|4) -> rows [y0, y1) of the float32 3 x out_h x out_w planar image,
  // Lanczos-3 resampled (0..255 values); returns their max.
  float (*prepare_rows)(ImageU8 src, float* dst, int64_t out_h, int64_t out_w, int64_t y0, int64_t y1);
  // normalise: every value divided by the image max and standardised (ImageNet mean/std).
  void (*normalise)(float* dst, int64_t plane, float image_max, const Normalisation& norm);
  // U²-Net's fusion head outside the network: sigmoid(bias + sum of weights[i] * maps[i] resampled
  // to dst's size, bilinear with half-pixel centres) -> the saliency map (the network's d0).
  void (*fuse_side_maps)(const SideMap* maps, const float* weights, int64_t count, float bias, MutPlaneF32 dst);
  // float saliency map -> min-max normalised -> Lanczos-3 resampled uint8 alpha.
  void (*upsample_mask)(PlaneF32 src, MutImageU8 dst);
  // RGBA out; with 4-channel input the input alpha multiplies the mask.
  void (*compose)(ImageU8 rgb, ImageU8 alpha, MutImageU8 dst, ComposeMode mode, const uint8_t bg[4]);
  // One structuring-element pass of erode or dilate; out-of-image pixels never win.
  void (*morphology)(ImageU8 src, MutImageU8 dst, MorphOp op, MorphShape shape, int radius);
  // Separable Gaussian with symmetric-reflect borders (scipy.ndimage's 'reflect').
  void (*gaussian_blur)(ImageU8 src, MutImageU8 dst, float sigma, int radius);
  // PNG scanlines with the Up filter: per row a filter byte (2), then row - previous row.
  void (*png_filter_up)(ImageU8 src, uint8_t* dst);
  // Foreground colour where the alpha is soft (Blur-Fusion, two window radii) -> RGBA with the alpha;
  // also the background colours (alpha 255 - a) into `background` unless its data is null.
  void (*estimate_foreground)(ImageU8 image, ImageU8 alpha, MutImageU8 dst, MutImageU8 background, int large_radius, int small_radius);
  // Foreground colour by multi-level estimation (Germer et al.; red-black sweeps) -> RGBA.
  void (*estimate_foreground_ml)(ImageU8 image, ImageU8 alpha, MutImageU8 dst, int big_iterations, int small_iterations);
  // Colour guided filter of a mask by the image (eps in squared 0..255 units).
  void (*guided_filter)(ImageU8 guide, ImageU8 src, MutImageU8 dst, int radius, float eps);
};

// Every ISA namespace (scalar, avx2, avx512, neon) defines the same set of functions.
#define CLEANCUT_DECLARE_KERNELS                                                                     \
  float prepare_rows(ImageU8 src, float* dst, int64_t out_h, int64_t out_w, int64_t y0, int64_t y1); \
  void normalise(float* dst, int64_t plane, float image_max, const Normalisation& norm);          \
  void fuse_side_maps(const SideMap* maps, const float* weights, int64_t count, float bias, MutPlaneF32 dst); \
  void upsample_mask(PlaneF32 src, MutImageU8 dst);                                               \
  void compose(ImageU8 rgb, ImageU8 alpha, MutImageU8 dst, ComposeMode mode, const uint8_t bg[4]); \
  void morphology(ImageU8 src, MutImageU8 dst, MorphOp op, MorphShape shape, int radius);          \
  void gaussian_blur(ImageU8 src, MutImageU8 dst, float sigma, int radius);                        \
  void png_filter_up(ImageU8 src, uint8_t* dst);                                                   \
  void estimate_foreground(ImageU8 image, ImageU8 alpha, MutImageU8 dst, MutImageU8 background, int large_radius, int small_radius); \
  void estimate_foreground_ml(ImageU8 image, ImageU8 alpha, MutImageU8 dst, int big_iterations, int small_iterations); \
  void guided_filter(ImageU8 guide, ImageU8 src, MutImageU8 dst, int radius, float eps);

namespace scalar {
CLEANCUT_DECLARE_KERNELS
}
#ifdef CLEANCUT_X86
namespace avx2 {
CLEANCUT_DECLARE_KERNELS
}
namespace avx512 {
CLEANCUT_DECLARE_KERNELS
}
#endif
#ifdef CLEANCUT_NEON
namespace neon {
CLEANCUT_DECLARE_KERNELS
}
#endif

// The ISAs this build has and this CPU runs, best last.
std::vector<const Kernels*> supported_kernels();
// The table picked once at import: the best supported, unless CLEANCUT_FORCE_ISA names another.
const Kernels& active_kernels();
const Kernels* find_kernels(const std::string& isa);  // nullptr when unsupported here

}  // namespace cleancut
