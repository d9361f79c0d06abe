#include "common/random.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

#include "fmt/format.h"

namespace cinfer {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::abort();  // No entropy: continuing would issue predictable secrets.
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1) abort();
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), size));
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

bool HexDecode(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string result;
  result.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]);
    int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    result.push_back(static_cast<char>(hi << 4 | lo));
  }
  *out = std::move(result);
  return true;
}

std::string RandomHex(size_t n) { return HexEncode(RandomBytes(n)); }

IdSequence::IdSequence() {
  const std::string seed = RandomBytes(16);
  std::memcpy(&key_a_, seed.data(), 8);
  std::memcpy(&key_b_, seed.data() + 8, 8);
}

uint64_t IdSequence::Next(uint64_t key) {
  uint64_t z = key + counter_.fetch_add(1, std::memory_order_relaxed) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

namespace {
void PutHex(uint64_t v, int digits, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i, v >>= 4) out[i] = kDigits[v & 0xf];
}
}  // namespace

std::string IdSequence::NextHex() {
  std::string out(16, '0');
  PutHex(Next(key_a_), 16, out.data());
  return out;
}

std::string IdSequence::NextUuid() {
  uint64_t hi = Next(key_a_);
  uint64_t lo = Next(key_b_);
  hi = (hi & ~0xf000ULL) | 0x4000ULL;        // version 4
  lo = (lo & ~(3ULL << 62)) | (2ULL << 62);  // variant 10
  std::string out(36, '-');
  PutHex(hi >> 32, 8, out.data());
  PutHex((hi >> 16) & 0xffff, 4, out.data() + 9);
  PutHex(hi & 0xffff, 4, out.data() + 14);
  PutHex(lo >> 48, 4, out.data() + 19);
  PutHex(lo & 0xffffffffffffULL, 12, out.data() + 24);
  return out;
}

std::string NewUuid() {
  std::string b = RandomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string h = HexEncode(b);
  return fmt::format("{}-{}-{}-{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(12, 4),
                     h.substr(16, 4), h.substr(20));
}

}  // namespace cinfer
