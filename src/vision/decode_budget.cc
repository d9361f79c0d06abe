#include "vision/decode_budget.h"

#include <algorithm>
#include <utility>

#include "absl/time/time.h"
#include "common/errors.h"
#include "common/strings.h"

namespace cinfer::vision {

DecodeBudget::Lease& DecodeBudget::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    budget_ = std::exchange(other.budget_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void DecodeBudget::Lease::ShrinkTo(int64_t bytes) {
  bytes = std::max<int64_t>(bytes, 0);
  if (budget_ == nullptr || bytes >= bytes_) return;
  budget_->Return(bytes_ - bytes);
  bytes_ = bytes;
}

absl::StatusOr<DecodeBudget::Lease> DecodeBudget::Acquire(
    int64_t bytes, std::chrono::steady_clock::time_point deadline) {
  bytes = std::max<int64_t>(bytes, 0);
  MutexLock lock(&mu_);
  // An image larger than the whole budget runs alone.
  const auto fits = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_use_ + bytes <= capacity_ || in_use_ == 0;
  };
  while (!fits()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return WithRetryAfter(MakeError(ErrorCode::kOverloaded,
                                      StrCat("the server is decoding too many images at once (",
                                             (capacity_ >> 20), " MiB decode budget); try again")),
                            1);
    }
    returned_.WaitWithTimeout(&mu_, deadline - now);
  }
  in_use_ += bytes;
  return Lease(this, bytes);
}

int64_t DecodeBudget::in_use() const {
  MutexLock lock(&mu_);
  return in_use_;
}

void DecodeBudget::Return(int64_t bytes) {
  {
    MutexLock lock(&mu_);
    in_use_ -= bytes;
  }
  returned_.SignalAll();
}

}  // namespace cinfer::vision
