// Cryptographically secure random values (OpenSSL RAND_bytes). Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace cinfer {

// `n` random bytes. Aborts only if the OS entropy source is broken.
std::string RandomBytes(size_t n);
// Lowercase hex of `n` random bytes (2n characters).
std::string RandomHex(size_t n);
// A random RFC 4122 version-4 UUID string.
std::string NewUuid();

std::string HexEncode(std::string_view bytes);
// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// Empty optional-like: returns false when `hex` is not valid hex.
bool HexDecode(std::string_view hex, std::string* out);

// Identifiers for the request path (request ids, log rows) without a call into
// OpenSSL's locked generator per id: a random key drawn once from RandomBytes,
// a counter, and splitmix64's finaliser (a bijection), so the ids of one
// sequence never repeat and do not reveal the counter. Not for secrets.
// Thread-safe (one atomic increment per id).
class IdSequence {
 public:
  IdSequence();
  // 16 lowercase hex characters.
  std::string NextHex();
  // An RFC 4122 version-4 formatted UUID.
  std::string NextUuid();

 private:
  uint64_t Next(uint64_t key);
  std::atomic<uint64_t> counter_{0};
  uint64_t key_a_ = 0, key_b_ = 0;
};

}  // namespace cinfer
