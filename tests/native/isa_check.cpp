// Stand-alone check that every ISA table this build has equals the scalar oracle byte for byte,
// for machines the Python tests cannot reach (AArch64 NEON under qemu). Exit status 0 = all equal.
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "kernels.h"

using namespace cleancut;

static std::mt19937 rng(12345);

static std::vector<uint8_t> random_bytes(size_t n) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

template <class T>
static bool same(const std::vector<T>& a, const std::vector<T>& b) {
  return std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

static int failures = 0;
static void expect(bool ok, const char* kernel, const char* isa, int64_t h, int64_t w) {
  if (!ok) {
    std::printf("MISMATCH %s on %s at %lldx%lld\n", kernel, isa, static_cast<long long>(h), static_cast<long long>(w));
    ++failures;
  }
}

int main() {
  const auto tables = supported_kernels();
  const Kernels& scalar = *tables.front();
  const int64_t sizes[] = {1, 2, 3, 7, 9, 15, 16, 17, 31, 33, 63, 65, 130, 333};
  const Normalisation norm{{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
  const uint8_t bg[4] = {10, 200, 30, 128};
  int checks = 0;
  for (int64_t h : sizes) {
    for (int64_t w : sizes) {
      const int64_t stride = w * 4 + 5;  // padded rows
      const std::vector<uint8_t> rgba = random_bytes(h * stride), mask = random_bytes(h * (w + 3));
      const ImageU8 colour3{rgba.data(), h, w, 3, stride}, colour4{rgba.data(), h, w, 4, stride};
      const ImageU8 alpha{mask.data(), h, w, 1, w + 3};
      std::vector<float> saliency(17 * 19);
      for (auto& v : saliency) v = std::uniform_real_distribution<float>(0, 1)(rng);
      for (const Kernels* t : tables) {
        if (t == &scalar) continue;
        const int64_t out_h = 1 + h % 40, out_w = 1 + w % 37;
        std::vector<float> p0(3 * out_h * out_w), p1(p0.size());
        scalar.normalise(p0.data(), out_h * out_w, scalar.prepare_rows(colour3, p0.data(), out_h, out_w, 0, out_h), norm);
        const int64_t cut = out_h / 2;  // the ISA's in two bands of rows, as prepare(threads=2) runs it
        const float top = cut > 0 ? t->prepare_rows(colour3, p1.data(), out_h, out_w, 0, cut) : 0.0f;
        const float bottom = t->prepare_rows(colour3, p1.data(), out_h, out_w, cut, out_h);
        t->normalise(p1.data(), out_h * out_w, top > bottom ? top : bottom, norm);
        expect(same(p0, p1), "prepare", t->isa, h, w);

        std::vector<uint8_t> m0(h * w), m1(h * w);
        scalar.upsample_mask({saliency.data(), 17, 19, 19}, {m0.data(), h, w, 1, w});
        t->upsample_mask({saliency.data(), 17, 19, 19}, {m1.data(), h, w, 1, w});
        expect(same(m0, m1), "upsample_mask", t->isa, h, w);

        std::vector<float> full(h * (w + 2)), small(5 * 3);
        for (auto& v : full) v = std::normal_distribution<float>(0, 4)(rng);
        for (auto& v : small) v = std::normal_distribution<float>(0, 4)(rng);
        std::vector<float> taps(9 * 4 * 6);  // the nine taps of a 4x6 map's 3x3 convolution
        for (auto& v : taps) v = std::normal_distribution<float>(0, 2)(rng);
        const SideMap sides[] = {{{full.data(), h, w, w + 2}, 1, 0, 0.0f},
                                 {{saliency.data(), 17, 19, 19}, 1, 0, 0.0f},
                                 {{small.data(), 5, 3, 3}, 1, 0, 0.0f},
                                 {{taps.data(), 4, 6, 6}, 9, 24, 0.3f}};
        const float weights[] = {0.9f, 0.3f, -0.2f, 0.5f};
        std::vector<float> s0(h * w), s1(h * w);
        scalar.fuse_side_maps(sides, weights, 4, 0.1f, {s0.data(), h, w, w});
        t->fuse_side_maps(sides, weights, 4, 0.1f, {s1.data(), h, w, w});
        expect(same(s0, s1), "fuse_side_maps", t->isa, h, w);

        for (int mode = 0; mode < 4; ++mode) {
          for (const ImageU8& colour : {colour3, colour4}) {
            std::vector<uint8_t> c0(h * w * 4), c1(c0.size());
            scalar.compose(colour, alpha, {c0.data(), h, w, 4, w * 4}, ComposeMode(mode), bg);
            t->compose(colour, alpha, {c1.data(), h, w, 4, w * 4}, ComposeMode(mode), bg);
            expect(same(c0, c1), "compose", t->isa, h, w);
          }
        }
        for (int shape = 0; shape < 2; ++shape) {
          for (int op = 0; op < 2; ++op) {
            for (int radius : {3, 70}) {  // square rows by doubling, then by transposed strips
              std::vector<uint8_t> o0(h * w), o1(h * w);
              scalar.morphology(alpha, {o0.data(), h, w, 1, w}, MorphOp(op), MorphShape(shape), radius);
              t->morphology(alpha, {o1.data(), h, w, 1, w}, MorphOp(op), MorphShape(shape), radius);
              expect(same(o0, o1), "morphology", t->isa, h, w);
            }
          }
        }
        std::vector<uint8_t> b0(h * w), b1(h * w);
        scalar.gaussian_blur(alpha, {b0.data(), h, w, 1, w}, 2.0f, 8);
        t->gaussian_blur(alpha, {b1.data(), h, w, 1, w}, 2.0f, 8);
        expect(same(b0, b1), "gaussian_blur", t->isa, h, w);

        for (const ImageU8& colour : {colour3, colour4}) {
          std::vector<uint8_t> e0(h * w * 4), e1(e0.size());
          std::vector<uint8_t> k0(h * w * 4), k1(k0.size());
          scalar.estimate_foreground(colour, alpha, {e0.data(), h, w, 4, w * 4}, {k0.data(), h, w, 4, w * 4}, 9, 2);
          t->estimate_foreground(colour, alpha, {e1.data(), h, w, 4, w * 4}, {k1.data(), h, w, 4, w * 4}, 9, 2);
          expect(same(e0, e1) && same(k0, k1), "estimate_foreground", t->isa, h, w);
          scalar.estimate_foreground_ml(colour, alpha, {e0.data(), h, w, 4, w * 4}, 2, 10);
          t->estimate_foreground_ml(colour, alpha, {e1.data(), h, w, 4, w * 4}, 2, 10);
          expect(same(e0, e1), "estimate_foreground_ml", t->isa, h, w);
          std::vector<uint8_t> g0(h * w), g1(h * w);
          scalar.guided_filter(colour, alpha, {g0.data(), h, w, 1, w}, 4, 100.0f);
          t->guided_filter(colour, alpha, {g1.data(), h, w, 1, w}, 4, 100.0f);
          expect(same(g0, g1), "guided_filter", t->isa, h, w);
        }

        std::vector<uint8_t> f0(h * (w * 4 + 1)), f1(f0.size());
        scalar.png_filter_up(colour4, f0.data());
        t->png_filter_up(colour4, f1.data());
        expect(same(f0, f1), "png_filter_up", t->isa, h, w);
        ++checks;
      }
    }
  }
  std::printf("%d size/ISA combinations checked on %zu table(s), %d mismatches\n", checks, tables.size(), failures);
  return failures == 0 && checks > 0 ? 0 : 1;
}
