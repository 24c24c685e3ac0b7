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

template <class V, class T>
inline typename V::F load_u8(const uint8_t* p, int64_t count, T) {
  if constexpr (T::value) {
    alignas(64) uint8_t buffer[64] = {};
    std::memcpy(buffer, p, count);
    return V::load_u8(buffer);
  } else {
    return V::load_u8(p);
  }
}

template <class V, class T>
inline typename V::I load_u8_i32(const uint8_t* p, int64_t count, T) {
  if constexpr (T::value) {
    alignas(64) uint8_t buffer[64] = {};
    std::memcpy(buffer, p, count);
    return V::load_u8_i32(buffer);
  } else {
    return V::load_u8_i32(p);
  }
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

template <class V, class T>
inline void store_u8(uint8_t* p, typename V::F v, int64_t count, T) {
  if constexpr (T::value) {
    alignas(64) uint8_t buffer[64];
    V::store_u8(buffer, v);
    std::memcpy(p, buffer, count);
  } else {
    V::store_u8(p, v);
  }
}

template <class V, class T>
inline void store_f32(float* p, typename V::F v, int64_t count, T) {
  if constexpr (T::value) {
    alignas(64) float buffer[V::N];
    V::store(buffer, v);
    std::memcpy(p, buffer, count * sizeof(float));
  } else {
    V::store(p, v);
  }
}

template <class V, class T>
inline typename V::B load_bytes(const uint8_t* p, int64_t count, T) {
  if constexpr (T::value) {
    alignas(64) uint8_t buffer[V::NB] = {};
    std::memcpy(buffer, p, count);
    return V::load_bytes(buffer);
  } else {
    return V::load_bytes(p);
  }
}

template <class V, class T>
inline void store_bytes(uint8_t* p, typename V::B v, int64_t count, T) {
  if constexpr (T::value) {
    alignas(64) uint8_t buffer[V::NB];
    V::store_bytes(buffer, v);
    std::memcpy(p, buffer, count);
  } else {
    V::store_bytes(p, v);
  }
}

}  // namespace cleancut
