// Loop driver and tail-safe loads/stores shared by the SIMD kernels (templated on an ISA's Vec).
// A kernel body is written once as `body(tail, i, count)`; the last, short step gets
// tail = std::true_type and goes through a stack buffer, so no access leaves the caller's buffers.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace cleancut {

using Full = std::false_type;
using Tail = std::true_type;

template <int Lanes, class Body>
inline void vector_loop(int64_t n, Body&& body) {
  int64_t i = 0;
  for (; i + Lanes <= n; i += Lanes) body(Full{}, i, int64_t{Lanes});
  if (i < n) body(Tail{}, i, n - i);
}

// load(p) on a full step; on the tail, load from a zero-padded copy of the `bytes` that exist.
template <class T, class Load>
inline auto load_staged(const void* p, int64_t bytes, T, Load load) {
  if constexpr (T::value) {
    alignas(64) uint8_t buffer[64] = {};
    std::memcpy(buffer, p, bytes);
    return load(buffer);
  } else {
    return load(p);
  }
}

// store(p) on a full step; on the tail, store to a stack buffer and copy out the `bytes` that fit.
template <class T, class Store>
inline void store_staged(void* p, int64_t bytes, T, Store store) {
  if constexpr (T::value) {
    alignas(64) uint8_t buffer[64];
    store(buffer);
    std::memcpy(p, buffer, bytes);
  } else {
    store(p);
  }
}

template <class V, class T>
inline typename V::F load_u8(const uint8_t* p, int64_t count, T tail) {
  return load_staged(p, count, tail, [](const void* q) { return V::load_u8(static_cast<const uint8_t*>(q)); });
}

template <class V, class T>
inline typename V::I load_u8_i32(const uint8_t* p, int64_t count, T tail) {
  return load_staged(p, count, tail, [](const void* q) { return V::load_u8_i32(static_cast<const uint8_t*>(q)); });
}

template <class V, class T>
inline typename V::B load_bytes(const uint8_t* p, int64_t count, T tail) {
  return load_staged(p, count, tail, [](const void* q) { return V::load_bytes(static_cast<const uint8_t*>(q)); });
}

template <class V, class T>
inline void store_u8(uint8_t* p, typename V::F v, int64_t count, T tail) {
  store_staged(p, count, tail, [v](void* q) { V::store_u8(static_cast<uint8_t*>(q), v); });
}

template <class V, class T>
inline void store_bytes(uint8_t* p, typename V::B v, int64_t count, T tail) {
  store_staged(p, count, tail, [v](void* q) { V::store_bytes(static_cast<uint8_t*>(q), v); });
}

template <class V, class T>
inline void store_f32(float* p, typename V::F v, int64_t count, T tail) {
  store_staged(p, count * int64_t(sizeof(float)), tail, [v](void* q) { V::store(static_cast<float*>(q), v); });
}

// Missing lanes are filled with `fill` (callers pass a value that cannot change a reduction).
template <class V, class T>
inline typename V::F load_f32(const float* p, int64_t count, float fill, T) {
  if constexpr (T::value) {
    alignas(64) float buffer[V::N];
    for (int i = 0; i < V::N; ++i) buffer[i] = i < count ? p[i] : fill;
    return V::load(buffer);
  } else {
    return V::load(p);
  }
}

}  // namespace cleancut
