// SIMD fusion head, templated on an ISA's Vec; same arithmetic, in the same order, as head_base.cpp.
#pragma once
#include "head_common.h"
#include "kernels.h"
#include "scratch.h"
#include "simd_loop.h"

namespace cleancut {
namespace {

template <class V>
typename V::F sigmoid(typename V::F z) {
  using F = typename V::F;
  const F x = V::min(V::max(V::sub(V::zero(), z), V::set1(kExpLow)), V::set1(kExpHigh));
  const auto n = V::round_to_i32(V::mul(x, V::set1(kLog2e)));
  const F nf = V::to_f32(n);
  F r = V::sub(x, V::mul(nf, V::set1(kLn2High)));
  r = V::sub(r, V::mul(nf, V::set1(kLn2Low)));
  F p = V::set1(kExpPoly[0]);
  for (int k = 1; k < 6; ++k) p = V::add(V::mul(p, r), V::set1(kExpPoly[k]));
  const F e = V::add(V::add(V::mul(p, V::mul(r, r)), r), V::set1(1.0f));
  const F scale = V::as_f32(V::template shl_i32<23>(V::add_i32(n, V::set1_i32(127))));
  return V::div(V::set1(1.0f), V::add(V::set1(1.0f), V::mul(e, scale)));
}

template <class V>
void sum_taps(const SideMap& map, float* out) {
  const PlaneF32& tap0 = map.plane;
  const int64_t height = tap0.height, width = tap0.width;
  vector_loop<V::N>(height * width, [&](auto tail, int64_t i, int64_t n) { store_f32<V>(out + i, V::set1(map.bias), n, tail); });
  for (int64_t dy = 0; dy < 3; ++dy) {
    for (int64_t dx = 0; dx < 3; ++dx) {
      const float* tap = tap0.data + (dy * 3 + dx) * map.tap_stride;
      const TapWindow in = tap_window(height, width, dy, dx);
      for (int64_t y = in.y0; y < in.y1; ++y) {
        const float* row = tap + (y + dy - 1) * tap0.row_stride + dx - 1 + in.x0;
        float* sum = out + y * width + in.x0;
        vector_loop<V::N>(in.x1 - in.x0, [&](auto tail, int64_t x, int64_t n) {
          store_f32<V>(sum + x, V::add(load_f32<V>(sum + x, n, 0.0f, tail), load_f32<V>(row + x, n, 0.0f, tail)), n, tail);
        });
      }
    }
  }
}

template <class V>
void fuse_side_maps_simd(const SideMap* side_maps, const float* weights, int64_t count, float bias, MutPlaneF32 dst) {
  const int64_t width = dst.width;
  for (int64_t y = 0; y < dst.height; ++y) {
    float* out = dst.data + y * dst.row_stride;
    vector_loop<V::N>(width, [&](auto tail, int64_t x, int64_t n) { store_f32<V>(out + x, V::set1(bias), n, tail); });
  }
  for (int64_t m = 0; m < count; ++m) {
    PlaneF32 map = side_maps[m].plane;
    if (side_maps[m].taps == 9) {
      float* summed = scratch<float, 1>(map.height * map.width);
      sum_taps<V>(side_maps[m], summed);
      map = {summed, map.height, map.width, map.width};
    }
    const auto weight = V::set1(weights[m]);
    if (map.height == dst.height && map.width == dst.width) {  // already full size: no resampling
      for (int64_t y = 0; y < dst.height; ++y) {
        const float* in = map.data + y * map.row_stride;
        float* out = dst.data + y * dst.row_stride;
        vector_loop<V::N>(width, [&](auto tail, int64_t x, int64_t n) {
          store_f32<V>(out + x, V::add(load_f32<V>(out + x, n, 0.0f, tail), V::mul(weight, load_f32<V>(in + x, n, 0.0f, tail))), n, tail);
        });
      }
      continue;
    }
    const BilinearTaps cx = bilinear_taps(map.width, width), cy = bilinear_taps(map.height, dst.height);
    float* rows = scratch<float, 0>(map.height * width);  // the map's rows resampled to dst.width
    for (int64_t r = 0; r < map.height; ++r) {
      const float* in = map.data + r * map.row_stride;
      // The taps are padded to whole vectors with in-range indices, so every gather is a full one.
      vector_loop<V::N>(width, [&](auto tail, int64_t x, int64_t n) {
        const auto first = V::mul(V::load(cx.first_weight.data() + x), V::gather(in, V::load_i32(cx.first.data() + x)));
        const auto second = V::mul(V::load(cx.second_weight.data() + x), V::gather(in, V::load_i32(cx.second.data() + x)));
        store_f32<V>(rows + r * width + x, V::add(first, second), n, tail);
      });
    }
    for (int64_t y = 0; y < dst.height; ++y) {
      const float* top = rows + cy.first[y] * width;
      const float* bottom = rows + cy.second[y] * width;
      const auto top_weight = V::set1(cy.first_weight[y]), bottom_weight = V::set1(cy.second_weight[y]);
      float* out = dst.data + y * dst.row_stride;
      vector_loop<V::N>(width, [&](auto tail, int64_t x, int64_t n) {
        const auto sample = V::add(V::mul(top_weight, load_f32<V>(top + x, n, 0.0f, tail)),
                                   V::mul(bottom_weight, load_f32<V>(bottom + x, n, 0.0f, tail)));
        store_f32<V>(out + x, V::add(load_f32<V>(out + x, n, 0.0f, tail), V::mul(weight, sample)), n, tail);
      });
    }
  }
  for (int64_t y = 0; y < dst.height; ++y) {
    float* out = dst.data + y * dst.row_stride;
    vector_loop<V::N>(width, [&](auto tail, int64_t x, int64_t n) {
      store_f32<V>(out + x, sigmoid<V>(load_f32<V>(out + x, n, 0.0f, tail)), n, tail);
    });
  }
}

}  // namespace
}  // namespace cleancut
