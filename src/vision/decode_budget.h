// DecodeBudget: bounds the memory that image decoding takes across concurrent
// requests. A request leases an estimate of its decode memory before decoding
// (vision::DecodeMemoryBytes) and keeps a lease for its decoded image until it
// ends; when the budget is spent, it waits for leases to come back until its
// deadline, then gets 503 OVERLOADED. One request larger than the whole budget
// is admitted alone (when no other lease is out), so every image within the
// pixel limit can still be decoded. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/mutex.h"

namespace cinfer::vision {

class DecodeBudget {
 public:
  // Returns its bytes to the budget when destroyed. Movable.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept { *this = std::move(other); }
    Lease& operator=(Lease&& other) noexcept;
    ~Lease() { Release(); }
    // Returns all but `bytes` of the lease (no-op when it holds less).
    void ShrinkTo(int64_t bytes);
    void Release() { ShrinkTo(0); }
    int64_t bytes() const { return bytes_; }

   private:
    friend class DecodeBudget;
    Lease(DecodeBudget* budget, int64_t bytes) : budget_(budget), bytes_(bytes) {}
    DecodeBudget* budget_ = nullptr;
    int64_t bytes_ = 0;
  };

  explicit DecodeBudget(int64_t capacity_bytes) : capacity_(capacity_bytes) {}
  DecodeBudget(const DecodeBudget&) = delete;
  DecodeBudget& operator=(const DecodeBudget&) = delete;

  // Waits until `bytes` fit (or `deadline` passes: 503 OVERLOADED).
  absl::StatusOr<Lease> Acquire(int64_t bytes, std::chrono::steady_clock::time_point deadline)
      ABSL_LOCKS_EXCLUDED(mu_);

  int64_t in_use() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t capacity() const { return capacity_; }

 private:
  void Return(int64_t bytes) ABSL_LOCKS_EXCLUDED(mu_);

  const int64_t capacity_;
  mutable Mutex mu_;
  CondVar returned_;
  int64_t in_use_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cinfer::vision
