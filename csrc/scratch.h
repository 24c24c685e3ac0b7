// Per-thread scratch memory for a kernel's large temporaries. A fresh multi-megabyte allocation
// costs a page fault per 4 KiB on every call, which can exceed the kernel's arithmetic; kept
// buffers are reused by later calls on the same thread. Contents are NOT cleared between calls.
#pragma once
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

#include <sys/mman.h>

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

// A large buffer of its owner's own, not zero-filled (pages never written are never resident),
// in transparent huge pages where Linux offers them: a fault per 2 MiB instead of per 4 KiB.
struct HugeBuffer {
  void* data = nullptr;
  size_t bytes = 0;
  HugeBuffer() = default;
  explicit HugeBuffer(size_t size) : bytes(size) {
    data = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    madvise(data, bytes, MADV_HUGEPAGE);  // a hint: where it is refused, 4 KiB pages do
#endif
  }
  HugeBuffer(HugeBuffer&& other) noexcept : data(other.data), bytes(other.bytes) { other.data = nullptr; }
  HugeBuffer& operator=(HugeBuffer&& other) noexcept {
    std::swap(data, other.data);
    std::swap(bytes, other.bytes);
    return *this;
  }
  ~HugeBuffer() {
    if (data) munmap(data, bytes);
  }
};

}  // namespace
}  // namespace cleancut
