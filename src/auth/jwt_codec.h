// JwtCodec: issues and verifies admin session tokens: JWT, HS256 only (the
// algorithm is pinned; "none", HS512, RS256... are rejected before any
// signature check), with iss, aud, sub, iat, exp, jti and the user's
// token version required. A token whose iat or nbf lies more than
// kClockLeewaySeconds in the future is refused. Thread-safe (immutable after
// construction).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"

namespace cinfer {

struct SessionClaims {
  std::string user_id;   // sub
  std::string username;  // usr
  std::string jti;
  int64_t token_version = 0;  // tv
  int64_t issued_at = 0;      // iat, Unix seconds
  int64_t expires_at = 0;     // exp, Unix seconds
};

class JwtCodec {
 public:
  static constexpr int64_t kClockLeewaySeconds = 60;
  struct Options {
    std::string secret;  // raw key bytes, at least 32
    std::string issuer = "cinfer";
    std::string audience = "cinfer-admin";
    std::chrono::seconds ttl = std::chrono::hours(1);
  };
  static absl::StatusOr<JwtCodec> Create(const Options& options, const Clock* clock);

  // Fills jti, iat and exp in `claims` and returns the signed token.
  absl::StatusOr<std::string> Issue(SessionClaims& claims) const;
  // Unauthenticated for anything but a well-formed, correctly signed, unexpired
  // HS256 token for our issuer and audience.
  absl::StatusOr<SessionClaims> Verify(std::string_view token) const;
  std::chrono::seconds ttl() const { return options_.ttl; }

 private:
  JwtCodec(Options options, const Clock* clock) : options_(std::move(options)), clock_(clock) {}
  Options options_;
  const Clock* clock_;
};

}  // namespace cinfer
