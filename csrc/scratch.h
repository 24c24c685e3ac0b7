// Per-thread scratch memory for a kernel's large temporaries. A fresh multi-megabyte allocation
// costs a page fault per 4 KiB on every call, which can exceed the kernel's arithmetic; kept
// buffers are reused by later calls on the same thread. Contents are NOT cleared between calls.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cleancut {
namespace {

// `Slot` tells apart buffers a kernel holds at the same time. The memory is cache-line aligned:
// vector loads that straddle two lines cost twice as much.
template <class T, int Slot>
T* scratch(size_t count) {
  constexpr size_t kLine = 64;
  thread_local std::vector<T> buffer;
  if (buffer.size() < count + kLine / sizeof(T)) buffer.resize(count + kLine / sizeof(T));
  const uintptr_t address = reinterpret_cast<uintptr_t>(buffer.data());
  return reinterpret_cast<T*>((address + kLine - 1) / kLine * kLine);
}

}  // namespace
}  // namespace cleancut
