// pybind11 bindings: argument checks (dtype, shape, strides) with clear errors, zero-copy views of
// NumPy buffers, and the GIL released around every kernel.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>

#include "kernels.h"

namespace py = pybind11;
using namespace cleancut;

namespace {

// Raised to Python as cleancut.errors.InvalidInputError (a ValueError).
struct ArgumentError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& what) { throw ArgumentError(what); }

template <class T>
void check_dtype(const py::array& a, const char* name, const char* dtype) {
  if (!a.dtype().is(py::dtype::of<T>())) {
    fail(std::string(name) + " must have dtype " + dtype + ", got " + std::string(py::str(a.dtype())));
  }
}

void check_rows(const py::array& a, const char* name, int64_t pixel_bytes) {
  for (py::ssize_t d = 0; d < a.ndim(); ++d) {
    if (a.shape(d) <= 0) fail(std::string(name) + " must not be empty, got shape " + std::string(py::str(py::tuple(py::cast(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()))))));
  }
  const bool packed = a.ndim() == 2 ? a.strides(1) == pixel_bytes
                                    : a.strides(2) == static_cast<py::ssize_t>(sizeof(uint8_t)) && a.strides(1) == pixel_bytes;
  if (!packed || a.strides(0) < a.shape(1) * pixel_bytes) {
    fail(std::string(name) + " must have packed pixels and positive row strides (any row padding is fine); "
         "pass numpy.ascontiguousarray(...) for other layouts");
  }
}

// uint8 HxW (channels == 1) or HxWxC with C in `allowed`.
ImageU8 image_view(const py::array& a, const char* name, std::initializer_list<int64_t> allowed) {
  check_dtype<uint8_t>(a, name, "uint8");
  int64_t channels = 1;
  if (a.ndim() == 3) channels = a.shape(2);
  else if (a.ndim() != 2) fail(std::string(name) + " must be a 2-D (HxW) or 3-D (HxWxC) array, got " + std::to_string(a.ndim()) + "-D");
  bool ok = false;
  for (int64_t c : allowed) ok |= c == channels;
  if (!ok) fail(std::string(name) + " has " + std::to_string(channels) + " channel(s); this kernel does not take that");
  check_rows(a, name, channels);
  return {static_cast<const uint8_t*>(a.data()), a.shape(0), a.shape(1), channels, a.strides(0)};
}

MutImageU8 output_view(py::array& a, const char* name, int64_t height, int64_t width, int64_t channels) {
  const bool shape_ok = a.ndim() == (channels > 1 ? 3 : 2) && a.shape(0) == height && a.shape(1) == width &&
                        (channels == 1 || a.shape(2) == channels);
  if (!shape_ok) {
    fail(std::string(name) + " must have shape (" + std::to_string(height) + ", " + std::to_string(width) +
         (channels > 1 ? ", " + std::to_string(channels) : std::string()) + ")");
  }
  if (!a.writeable()) fail(std::string(name) + " must be writeable");
  const ImageU8 v = image_view(a, name, {channels});
  return {static_cast<uint8_t*>(a.mutable_data()), v.height, v.width, v.channels, v.row_stride};
}

py::array_t<uint8_t> new_image(int64_t height, int64_t width, int64_t channels) {
  if (channels == 1) return py::array_t<uint8_t>({height, width});
  return py::array_t<uint8_t>({height, width, channels});
}

ComposeMode parse_mode(const std::string& mode) {
  if (mode == "straight") return ComposeMode::straight;
  if (mode == "cutout") return ComposeMode::cutout;
  if (mode == "premultiplied") return ComposeMode::premultiplied;
  if (mode == "over_color") return ComposeMode::over_color;
  fail("compose mode must be 'straight', 'cutout', 'premultiplied' or 'over_color', got '" + mode + "'");
}

// out[slot] of a float32 (N, 3, H, W) network input, checked.
float* network_input(py::array& out, int64_t slot) {
  check_dtype<float>(out, "out", "float32");
  if (out.ndim() != 4 || out.shape(1) != 3) fail("out must have shape (N, 3, H, W)");
  if (!out.writeable() || !(out.flags() & py::array::c_style)) fail("out must be a writeable C-contiguous array");
  if (slot < 0 || slot >= out.shape(0)) fail("slot " + std::to_string(slot) + " is outside the batch of " + std::to_string(out.shape(0)));
  if (out.shape(2) <= 0 || out.shape(3) <= 0) fail("out must not be empty");
  return static_cast<float*>(out.mutable_data()) + slot * 3 * out.shape(2) * out.shape(3);
}

// A 2-D float32 map with contiguous rows (any positive row stride), checked.
PlaneF32 float_plane(const py::array& a, const std::string& name) {
  check_dtype<float>(a, name.c_str(), "float32");
  if (a.ndim() != 2) fail(name + " must be a 2-D float32 map, got " + std::to_string(a.ndim()) + "-D");
  if (a.shape(0) <= 0 || a.shape(1) <= 0) fail(name + " must not be empty");
  if (a.strides(1) != sizeof(float) || a.strides(0) < a.shape(1) * py::ssize_t(sizeof(float)) || a.strides(0) % sizeof(float) != 0) {
    fail(name + " rows must be contiguous with a positive row stride");
  }
  return {static_cast<const float*>(a.data()), a.shape(0), a.shape(1), a.strides(0) / py::ssize_t(sizeof(float))};
}

// A side map: float32 (H, W), or (9, H, W), the taps of the 3x3 convolution that makes it (its bias
// apart). Planes checked as float_plane; the taps must not overlap.
SideMap side_map(const py::array& a, float bias) {
  if (a.ndim() != 3) return {float_plane(a, "side map"), 1, 0, 0.0f};
  if (a.shape(0) != 9) fail("a 3-D side map must hold the 9 taps of a 3x3 convolution, shape (9, H, W)");
  const PlaneF32 first = float_plane(py::array(a.attr("__getitem__")(0)), "side map tap");
  if (a.strides(0) % py::ssize_t(sizeof(float)) != 0 || a.strides(0) < first.height * first.row_stride * py::ssize_t(sizeof(float))) {
    fail("side map taps must follow each other without overlapping");
  }
  return {first, 9, a.strides(0) / py::ssize_t(sizeof(float)), bias};
}

Normalisation normalisation(std::array<float, 3> mean, std::array<float, 3> std) {
  for (float s : std) {
    if (!(s > 0.0f) || !std::isfinite(s)) fail("std values must be positive and finite");
  }
  return {{mean[0], mean[1], mean[2]}, {std[0], std[1], std[2]}};
}

// Morphology and Gaussian radii: past this the element is wider than any mask these kernels serve.
constexpr int kMaxRadius = 1024;

struct KernelSet {
  const Kernels* table;

  std::string isa() const { return table->isa; }

  void prepare(const py::array& image, py::array& out, int64_t slot, std::array<float, 3> mean, std::array<float, 3> std) const {
    const ImageU8 src = image_view(image, "image", {3, 4});
    float* dst = network_input(out, slot);
    const int64_t out_h = out.shape(2), out_w = out.shape(3);
    const Normalisation norm = normalisation(mean, std);
    py::gil_scoped_release release;
    table->normalise(dst, out_h * out_w, table->prepare_rows(src, dst, out_h, out_w, 0, out_h), norm);
  }

  float prepare_rows(const py::array& image, py::array& out, int64_t slot, int64_t y0, int64_t y1) const {
    const ImageU8 src = image_view(image, "image", {3, 4});
    float* dst = network_input(out, slot);
    const int64_t out_h = out.shape(2), out_w = out.shape(3);
    if (y0 < 0 || y1 > out_h || y0 >= y1) fail("rows must satisfy 0 <= y0 < y1 <= " + std::to_string(out_h));
    py::gil_scoped_release release;
    return table->prepare_rows(src, dst, out_h, out_w, y0, y1);
  }

  void normalise(py::array& out, int64_t slot, float image_max, std::array<float, 3> mean, std::array<float, 3> std) const {
    float* dst = network_input(out, slot);
    if (!(image_max >= 0.0f) || !std::isfinite(image_max)) fail("image_max must be finite and not negative");
    const Normalisation norm = normalisation(mean, std);
    py::gil_scoped_release release;
    table->normalise(dst, out.shape(2) * out.shape(3), image_max, norm);
  }

  py::array_t<float> fuse_side_maps(const std::vector<py::array>& maps, const std::vector<float>& weights, float bias,
                                    int64_t height, int64_t width, const std::vector<float>& biases) const {
    if (maps.empty() || maps.size() != weights.size()) fail("fuse_side_maps needs one weight per map and at least one map");
    if (!biases.empty() && biases.size() != maps.size()) fail("fuse_side_maps takes one bias per map, or none");
    if (height <= 0 || width <= 0) fail("saliency size must be positive, got " + std::to_string(height) + "x" + std::to_string(width));
    std::vector<SideMap> sides;
    for (size_t i = 0; i < maps.size(); ++i) sides.push_back(side_map(maps[i], biases.empty() ? 0.0f : biases[i]));
    py::array_t<float> result({height, width});
    const MutPlaneF32 dst{result.mutable_data(), height, width, width};
    py::gil_scoped_release release;
    table->fuse_side_maps(sides.data(), weights.data(), static_cast<int64_t>(sides.size()), bias, dst);
    return result;
  }

  py::array upsample_mask(const py::array& saliency, int64_t height, int64_t width, std::optional<py::array> out) const {
    const PlaneF32 src = float_plane(saliency, "saliency");
    if (height <= 0 || width <= 0) fail("mask size must be positive, got " + std::to_string(height) + "x" + std::to_string(width));
    py::array result = out ? *out : py::array(new_image(height, width, 1));
    const MutImageU8 dst = output_view(result, "out", height, width, 1);
    py::gil_scoped_release release;
    table->upsample_mask(src, dst);
    return result;
  }

  py::array compose(const py::array& image, const py::array& alpha, const std::string& mode,
                    std::array<int, 4> bgcolor, std::optional<py::array> out) const {
    const ImageU8 rgb = image_view(image, "image", {3, 4});
    const ImageU8 mask = image_view(alpha, "alpha", {1});
    if (alpha.ndim() != 2 || mask.height != rgb.height || mask.width != rgb.width) {
      fail("alpha must be a 2-D array with the image's height and width");
    }
    uint8_t bg[4];
    for (int c = 0; c < 4; ++c) {
      if (bgcolor[c] < 0 || bgcolor[c] > 255) fail("bgcolor components must be in 0..255");
      bg[c] = static_cast<uint8_t>(bgcolor[c]);
    }
    const ComposeMode m = parse_mode(mode);
    py::array result = out ? *out : py::array(new_image(rgb.height, rgb.width, 4));
    const MutImageU8 dst = output_view(result, "out", rgb.height, rgb.width, 4);
    py::gil_scoped_release release;
    table->compose(rgb, mask, dst, m, bg);
    return result;
  }

  py::array morphology(const py::array& mask, const std::string& op, const std::string& shape, int radius,
                       std::optional<py::array> out) const {
    const ImageU8 src = image_view(mask, "mask", {1});
    if (mask.ndim() != 2) fail("mask must be a 2-D uint8 array");
    if (op != "erode" && op != "dilate") fail("op must be 'erode' or 'dilate', got '" + op + "'");
    if (shape != "square" && shape != "disk") fail("shape must be 'square' or 'disk', got '" + shape + "'");
    if (radius < 0 || radius > kMaxRadius) fail("radius must be in 0.." + std::to_string(kMaxRadius) + ", got " + std::to_string(radius));
    py::array result = out ? *out : py::array(new_image(src.height, src.width, 1));
    const MutImageU8 dst = output_view(result, "out", src.height, src.width, 1);
    if (dst.data == src.data) fail("out must not be the input array");
    py::gil_scoped_release release;
    table->morphology(src, dst, op == "erode" ? MorphOp::erode : MorphOp::dilate,
                      shape == "square" ? MorphShape::square : MorphShape::disk, radius);
    return result;
  }

  py::array gaussian_blur(const py::array& mask, float sigma, int radius, std::optional<py::array> out) const {
    const ImageU8 src = image_view(mask, "mask", {1});
    if (mask.ndim() != 2) fail("mask must be a 2-D uint8 array");
    if (!(sigma >= 0.0f) || !std::isfinite(sigma)) fail("sigma must be a finite number >= 0");
    if (radius < 0) {
      // scipy's truncate=4, checked in float: a huge sigma would overflow the int radius.
      if (sigma > kMaxRadius / 4) fail("sigma must be at most " + std::to_string(kMaxRadius / 4) + " (radius 4 sigma), got " + std::to_string(sigma));
      radius = static_cast<int>(4.0f * sigma + 0.5f);
    }
    if (radius > kMaxRadius) fail("radius must be at most " + std::to_string(kMaxRadius) + ", got " + std::to_string(radius));
    py::array result = out ? *out : py::array(new_image(src.height, src.width, 1));
    const MutImageU8 dst = output_view(result, "out", src.height, src.width, 1);
    if (dst.data == src.data) fail("out must not be the input array");
    py::gil_scoped_release release;
    table->gaussian_blur(src, dst, sigma, radius);
    return result;
  }

  // Window sums stay below 2^31 (exact int32) for radii up to this.
  static constexpr int kMaxWindowRadius = 90;

  static void check_radius(int radius, const char* name, int smallest) {
    if (radius < smallest || radius > kMaxWindowRadius) {
      fail(std::string(name) + " must be in " + std::to_string(smallest) + ".." + std::to_string(kMaxWindowRadius) + ", got " + std::to_string(radius));
    }
  }

  // The image and a mask of its height and width.
  static ImageU8 matching_mask(const py::array& mask, const char* name, const ImageU8& image) {
    const ImageU8 view = image_view(mask, name, {1});
    if (mask.ndim() != 2 || view.height != image.height || view.width != image.width) {
      fail(std::string(name) + " must be a 2-D uint8 array with the image's height and width");
    }
    return view;
  }

  // The checked views of an image, its alpha and the RGBA output (new unless `out` is given).
  struct ForegroundViews {
    ImageU8 rgb, mask;
    py::array result;
    MutImageU8 dst;
  };
  static ForegroundViews foreground_views(const py::array& image, const py::array& alpha, std::optional<py::array> out) {
    const ImageU8 rgb = image_view(image, "image", {3, 4});
    const ImageU8 mask = matching_mask(alpha, "alpha", rgb);
    py::array result = out ? *out : py::array(new_image(rgb.height, rgb.width, 4));
    const MutImageU8 dst = output_view(result, "out", rgb.height, rgb.width, 4);
    if (dst.data == rgb.data) fail("out must not be the input image");
    return {rgb, mask, result, dst};
  }

  py::object estimate_foreground(const py::array& image, const py::array& alpha, int large_radius, int small_radius,
                                 std::optional<py::array> out, bool with_background) const {
    check_radius(large_radius, "large_radius", 1);
    check_radius(small_radius, "small_radius", 1);
    const ForegroundViews v = foreground_views(image, alpha, out);
    py::array background;
    MutImageU8 bg{nullptr, 0, 0, 4, 0};
    if (with_background) {
      background = new_image(v.rgb.height, v.rgb.width, 4);
      bg = output_view(background, "background", v.rgb.height, v.rgb.width, 4);
    }
    {
      py::gil_scoped_release release;
      table->estimate_foreground(v.rgb, v.mask, v.dst, bg, large_radius, small_radius);
    }
    if (with_background) return py::make_tuple(v.result, background);
    return v.result;
  }

  py::array estimate_foreground_ml(const py::array& image, const py::array& alpha, int big_iterations, int small_iterations,
                                   std::optional<py::array> out) const {
    if (big_iterations < 1 || big_iterations > 100) fail("big_iterations must be in 1..100, got " + std::to_string(big_iterations));
    if (small_iterations < 1 || small_iterations > 100) fail("small_iterations must be in 1..100, got " + std::to_string(small_iterations));
    const ForegroundViews v = foreground_views(image, alpha, out);
    py::gil_scoped_release release;
    table->estimate_foreground_ml(v.rgb, v.mask, v.dst, big_iterations, small_iterations);
    return v.result;
  }

  py::array guided_filter(const py::array& guide, const py::array& mask, int radius, float eps, std::optional<py::array> out) const {
    const ImageU8 rgb = image_view(guide, "guide", {3, 4});
    const ImageU8 src = matching_mask(mask, "mask", rgb);
    check_radius(radius, "radius", 0);
    if (!(eps > 0.0f) || !std::isfinite(eps)) fail("eps must be a finite number > 0");
    py::array result = out ? *out : py::array(new_image(rgb.height, rgb.width, 1));
    const MutImageU8 dst = output_view(result, "out", rgb.height, rgb.width, 1);
    if (dst.data == src.data) fail("out must not be the input mask");
    py::gil_scoped_release release;
    table->guided_filter(rgb, src, dst, radius, eps);
    return result;
  }

  py::array png_filter_up(const py::array& image) const {
    const ImageU8 src = image_view(image, "image", {1, 2, 3, 4});
    py::array_t<uint8_t> result({src.height, src.width * src.channels + 1});
    uint8_t* dst = result.mutable_data();
    py::gil_scoped_release release;
    table->png_filter_up(src, dst);
    return result;
  }
};

KernelSet kernel_set(const std::string& isa) {
  const Kernels* table = find_kernels(isa);
  if (table == nullptr) fail("ISA '" + isa + "' is not available on this CPU/build");
  return KernelSet{table};
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "cleancut's C++ pixel kernels (scalar oracle + SIMD per ISA, dispatched once at import)";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ArgumentError& e) {
      py::object cls = py::module_::import("cleancut.errors").attr("InvalidInputError");
      PyErr_SetString(cls.ptr(), e.what());
    }
  });

  py::class_<KernelSet>(m, "KernelSet")
      .def_property_readonly("isa", &KernelSet::isa)
      .def("prepare", &KernelSet::prepare, py::arg("image"), py::arg("out"), py::arg("slot") = 0,
           py::arg("mean"), py::arg("std"),
           "Resample uint8 HxWx3|4 (Lanczos-3) into out[slot] (float32 N x 3 x H x W), normalised.")
      .def("prepare_rows", &KernelSet::prepare_rows, py::arg("image"), py::arg("out"), py::arg("slot"), py::arg("y0"),
           py::arg("y1"), "prepare's resampling of rows [y0, y1) of out[slot] only (0..255 values); returns their max.")
      .def("normalise", &KernelSet::normalise, py::arg("out"), py::arg("slot"), py::arg("image_max"), py::arg("mean"),
           py::arg("std"), "prepare's last step over all of out[slot]: divide by image_max, standardise.")
      .def("fuse_side_maps", &KernelSet::fuse_side_maps, py::arg("maps"), py::arg("weights"), py::arg("bias"),
           py::arg("height"), py::arg("width"), py::arg("biases") = std::vector<float>{},
           "U²-Net's fusion head: sigmoid(bias + sum of weights[i] * maps[i] resampled bilinearly to height x width) "
           "-> float32 saliency map. A map is float32 (H, W), or (9, H, W): the taps of the 3x3 convolution that "
           "makes it, summed shifted onto biases[i].")
      .def("upsample_mask", &KernelSet::upsample_mask, py::arg("saliency"), py::arg("height"), py::arg("width"),
           py::arg("out") = py::none(), "Min-max normalise a float32 map and Lanczos-3 resample it to uint8 HxW.")
      .def("compose", &KernelSet::compose, py::arg("image"), py::arg("alpha"), py::arg("mode") = "straight",
           py::arg("bgcolor") = std::array<int, 4>{0, 0, 0, 0}, py::arg("out") = py::none(),
           "RGB(A) + alpha -> RGBA: 'straight', 'cutout' (straight, nothing where alpha is 0), 'premultiplied' or "
           "'over_color' (bgcolor RGBA).")
      .def("morphology", &KernelSet::morphology, py::arg("mask"), py::arg("op"), py::arg("shape") = "disk",
           py::arg("radius") = 1, py::arg("out") = py::none(), "Grey-level erode/dilate of a uint8 mask.")
      .def("gaussian_blur", &KernelSet::gaussian_blur, py::arg("mask"), py::arg("sigma"), py::arg("radius") = -1,
           py::arg("out") = py::none(), "Separable Gaussian of a uint8 mask (reflect borders; radius -1: 4*sigma).")
      .def("estimate_foreground", &KernelSet::estimate_foreground, py::arg("image"), py::arg("alpha"),
           py::arg("large_radius") = 90, py::arg("small_radius") = 6, py::arg("out") = py::none(),
           py::arg("with_background") = false,
           "Foreground colours where alpha is soft (Blur-Fusion) -> uint8 HxWx4 RGBA carrying the alpha; "
           "with_background=True: (foreground, background RGBA carrying 255 - alpha).")
      .def("estimate_foreground_ml", &KernelSet::estimate_foreground_ml, py::arg("image"), py::arg("alpha"),
           py::arg("big_iterations") = 2, py::arg("small_iterations") = 10, py::arg("out") = py::none(),
           "Foreground colours by multi-level estimation (Germer et al.) -> uint8 HxWx4 RGBA carrying the alpha.")
      .def("guided_filter", &KernelSet::guided_filter, py::arg("guide"), py::arg("mask"), py::arg("radius"),
           py::arg("eps"), py::arg("out") = py::none(),
           "Colour guided filter of a uint8 mask by the image (eps in squared 0..255 units) -> uint8 HxW.")
      .def("png_filter_up", &KernelSet::png_filter_up, py::arg("image"),
           "PNG scanlines with the Up filter: H x (1 + W*C) bytes, ready for deflate.");

  std::vector<std::string> available, compiled;
  for (const Kernels* t : supported_kernels()) available.push_back(t->isa);
  compiled.push_back("scalar");
#ifdef CLEANCUT_X86
  compiled.push_back("avx2");
  compiled.push_back("avx512");
#endif
#ifdef CLEANCUT_NEON
  compiled.push_back("neon");
#endif
  m.attr("max_radius") = kMaxRadius;
  m.attr("available_isas") = available;
  m.attr("compiled_isas") = compiled;
  m.def("kernel_set", &kernel_set, py::arg("isa"), "The kernels of one ISA (for tests and benchmarks).");
  try {
    m.attr("active") = KernelSet{&active_kernels()};
  } catch (const std::runtime_error& e) {
    throw ArgumentError(e.what());
  }
}
