// Cryptographically secure random values (OpenSSL RAND_bytes). Thread-safe.
#pragma once

#include <string>

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

}  // namespace cinfer
