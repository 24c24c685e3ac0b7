// Per-thread scratch memory for a kernel's large temporaries. A fresh multi-megabyte allocation
// costs a page fault per 4 KiB on every call, which can exceed the kernel's arithmetic; kept
// buffers are reused by later calls on the same thread. Contents are NOT cleared between calls.
#pragma once
#include <cstddef>
#include <vector>

namespace cleancut {
namespace {

// `Slot` tells apart buffers a kernel holds at the same time.
template <class T, int Slot>
T* scratch(size_t count) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < count) buffer.resize(count);
  return buffer.data();
}

}  // namespace
}  // namespace cleancut
