// PasswordHasher: argon2id hashing and verification with a bound on how many
// hashes run at once (each costs memory_kib of RAM and tens of milliseconds).
// Thread-safe.
#pragma once

#include <memory>
#include <semaphore>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cinfer {

class PasswordHasher {
 public:
  struct Options {
    // OWASP (2023) argon2id minimum: m=19 MiB, t=2, p=1.
    uint32_t time_cost = 2;
    uint32_t memory_kib = 19 * 1024;
    uint32_t parallelism = 1;
    int max_concurrent = 2;
  };
  static absl::StatusOr<std::unique_ptr<PasswordHasher>> Create(const Options& options);

  // An encoded "$argon2id$v=19$m=...,t=...,p=...$salt$hash" string.
  absl::StatusOr<std::string> Hash(std::string_view password);
  // True when `password` matches `encoded`; false on mismatch or a malformed hash.
  bool Verify(std::string_view encoded, std::string_view password);
  // Spends the same effort as Verify against a throwaway hash, so callers can
  // make "unknown user" as slow as "wrong password".
  void VerifyDummy(std::string_view password);

 private:
  PasswordHasher(const Options& options, std::string dummy_hash);
  Options options_;
  std::counting_semaphore<64> slots_;
  std::string dummy_hash_;
};

}  // namespace cinfer
