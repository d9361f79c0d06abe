#include "auth/password_hasher.h"

#include <argon2.h>

#include "common/random.h"
#include "common/strings.h"

namespace cinfer {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

// Holds one hashing slot for its lifetime.
class SlotGuard {
 public:
  explicit SlotGuard(std::counting_semaphore<64>& s) : s_(s) { s_.acquire(); }
  ~SlotGuard() { s_.release(); }
  SlotGuard(const SlotGuard&) = delete;
  SlotGuard& operator=(const SlotGuard&) = delete;

 private:
  std::counting_semaphore<64>& s_;
};

absl::StatusOr<std::string> HashWith(const PasswordHasher::Options& o, std::string_view password) {
  const std::string salt = RandomBytes(kSaltBytes);
  const size_t len = argon2_encodedlen(o.time_cost, o.memory_kib, o.parallelism, kSaltBytes,
                                       kHashBytes, Argon2_id);
  std::string encoded(len, '\0');
  int rc = argon2id_hash_encoded(o.time_cost, o.memory_kib, o.parallelism, password.data(),
                                 password.size(), salt.data(), salt.size(), kHashBytes,
                                 encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return absl::InternalError(StrCat("argon2id: ", argon2_error_message(rc)));
  }
  encoded.resize(encoded.find('\0') == std::string::npos ? encoded.size() : encoded.find('\0'));
  return encoded;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PasswordHasher>> PasswordHasher::Create(const Options& options) {
  if (options.max_concurrent < 1 || options.max_concurrent > 64) {
    return absl::InvalidArgumentError("max_concurrent must be in [1, 64]");
  }
  auto dummy = HashWith(options, RandomHex(16));
  if (!dummy.ok()) return dummy.status();
  return std::unique_ptr<PasswordHasher>(new PasswordHasher(options, *std::move(dummy)));
}

PasswordHasher::PasswordHasher(const Options& options, std::string dummy_hash)
    : options_(options), slots_(options.max_concurrent), dummy_hash_(std::move(dummy_hash)) {}

absl::StatusOr<std::string> PasswordHasher::Hash(std::string_view password) {
  SlotGuard guard(slots_);
  return HashWith(options_, password);
}

bool PasswordHasher::Verify(std::string_view encoded, std::string_view password) {
  SlotGuard guard(slots_);
  const std::string enc(encoded);  // argon2 needs a NUL-terminated string
  return argon2id_verify(enc.c_str(), password.data(), password.size()) == ARGON2_OK;
}

void PasswordHasher::VerifyDummy(std::string_view password) { (void)Verify(dummy_hash_, password); }

}  // namespace cinfer
