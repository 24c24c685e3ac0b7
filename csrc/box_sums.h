// Box (moving-window) sums of P planes over a (2r+1)x(2r+1) window clipped at the image border,
// at a cost per pixel that does not depend on r: running column sums down the image, then prefix
// sums along each row. Shared by the scalar oracle and the SIMD kernels: with integer planes the
// sums are exact, and with float planes every element sees the same operations in the same order,
// so both builds agree bit for bit. Only the row producers and the per-pixel maths differ per ISA.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace cleancut {
namespace {

// Rows (or columns) of an n-long axis that a window of radius r around i covers.
inline int64_t window_count(int64_t i, int64_t n, int64_t r) { return std::min(i + r, n - 1) - std::max<int64_t>(i - r, 0) + 1; }

template <class T, int P>
class BoxSums {
 public:
  // Plane rows are padded so a vector step may run past the width (`kPad` elements).
  static constexpr int64_t kPad = 64;

  BoxSums(int64_t height, int64_t width, int64_t radius)
      : height_(height), width_(width), radius_(radius), stride_(width + kPad),
        columns_(P * stride_, T{}), produced_(P * stride_), prefix_(width + 1), sums_(P * stride_) {}

  // Window sums for the next output row (rows 0, 1, 2... in order). `produce(j, rows)` fills
  // rows[p][0..width) with plane p of source row j; it is called when row j enters the window and
  // again when it leaves, so a producer can compute rows on the fly instead of keeping them.
  template <class Produce>
  std::array<const T*, P> next(Produce&& produce) {
    const int64_t y = next_row_++;
    if (y == 0) {
      for (int64_t j = 0; j <= std::min(radius_, height_ - 1); ++j) update(j, +1, produce);
    } else {
      if (y + radius_ < height_) update(y + radius_, +1, produce);
      if (y - radius_ - 1 >= 0) update(y - radius_ - 1, -1, produce);
    }
    std::array<const T*, P> out;
    const int64_t r = radius_, w = width_;
    const int64_t left = std::min(r, w), right = std::max(left, w - r - 1);
    for (int p = 0; p < P; ++p) {
      const T* column = columns_.data() + p * stride_;
      T* sums = sums_.data() + p * stride_;
      prefix_[0] = T{};
      for (int64_t x = 0; x < w; ++x) prefix_[x + 1] = prefix_[x] + column[x];
      // Left border, interior (contiguous, vectorisable), right border.
      for (int64_t x = 0; x < left; ++x) sums[x] = prefix_[std::min(x + r + 1, w)];
      for (int64_t x = left; x < right; ++x) sums[x] = prefix_[x + r + 1] - prefix_[x - r];
      for (int64_t x = right; x < w; ++x) sums[x] = prefix_[w] - prefix_[std::max<int64_t>(x - r, 0)];
      out[p] = sums;
    }
    return out;
  }

 private:
  template <class Produce>
  void update(int64_t j, int sign, Produce& produce) {
    std::array<T*, P> rows;
    for (int p = 0; p < P; ++p) rows[p] = produced_.data() + p * stride_;
    produce(j, rows);
    for (int p = 0; p < P; ++p) {
      T* column = columns_.data() + p * stride_;
      const T* row = rows[p];
      if (sign > 0) {
        for (int64_t x = 0; x < width_; ++x) column[x] = column[x] + row[x];
      } else {
        for (int64_t x = 0; x < width_; ++x) column[x] = column[x] - row[x];
      }
    }
  }

  int64_t height_, width_, radius_, stride_, next_row_ = 0;
  std::vector<T> columns_, produced_, prefix_, sums_;
};

// The last `capacity` rows of a stage's output, for a later stage's window: row j lives at j % capacity.
template <class T>
class RowRing {
 public:
  RowRing(int64_t capacity, int64_t row_elements) : capacity_(capacity), row_(row_elements), data_(capacity * row_elements) {}
  T* row(int64_t j) { return data_.data() + (j % capacity_) * row_; }

 private:
  int64_t capacity_, row_;
  std::vector<T> data_;
};

}  // namespace
}  // namespace cleancut
