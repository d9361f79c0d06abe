#include "auth/jwt_codec.h"

#include <jwt.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "common/errors.h"
#include "common/random.h"
#include "common/strings.h"
#include "nlohmann/json.hpp"

namespace cinfer {
namespace {

struct JwtDeleter {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

absl::Status Invalid() { return UnauthenticatedError("invalid or expired session token"); }

// Checks the header names HS256 before libjwt sees the token: libjwt would
// otherwise pick the algorithm from the header.
bool HeaderIsHs256(std::string_view token) {
  std::vector<std::string_view> parts = Split(token, '.');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) return false;
  std::string header;
  if (!WebSafeBase64Decode(parts[0], &header)) return false;
  auto json = nlohmann::json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return false;
  auto alg = json.find("alg");
  return alg != json.end() && alg->is_string() && alg->get<std::string>() == "HS256";
}

}  // namespace

absl::StatusOr<JwtCodec> JwtCodec::Create(const Options& options, const Clock* clock) {
  if (options.secret.size() < 32) return absl::InvalidArgumentError("JWT secret under 256 bits");
  if (options.ttl <= std::chrono::seconds(0)) return absl::InvalidArgumentError("JWT ttl <= 0");
  return JwtCodec(options, clock);
}

absl::StatusOr<std::string> JwtCodec::Issue(SessionClaims& claims) const {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return absl::InternalError("jwt_new failed");
  JwtPtr jwt(raw);
  claims.jti = RandomHex(16);
  claims.issued_at = UnixSeconds(clock_->Now());
  claims.expires_at = claims.issued_at + options_.ttl.count();
  int rc = jwt_add_grant(jwt.get(), "iss", options_.issuer.c_str());
  rc |= jwt_add_grant(jwt.get(), "aud", options_.audience.c_str());
  rc |= jwt_add_grant(jwt.get(), "sub", claims.user_id.c_str());
  rc |= jwt_add_grant(jwt.get(), "usr", claims.username.c_str());
  rc |= jwt_add_grant(jwt.get(), "jti", claims.jti.c_str());
  rc |= jwt_add_grant_int(jwt.get(), "iat", claims.issued_at);
  rc |= jwt_add_grant_int(jwt.get(), "exp", claims.expires_at);
  rc |= jwt_add_grant_int(jwt.get(), "tv", claims.token_version);
  rc |= jwt_set_alg(jwt.get(), JWT_ALG_HS256,
                    reinterpret_cast<const unsigned char*>(options_.secret.data()),
                    static_cast<int>(options_.secret.size()));
  if (rc != 0) return absl::InternalError("cannot build JWT");
  char* encoded = jwt_encode_str(jwt.get());
  if (encoded == nullptr) return absl::InternalError("cannot encode JWT");
  std::string out(encoded);
  free(encoded);
  return out;
}

absl::StatusOr<SessionClaims> JwtCodec::Verify(std::string_view token) const {
  if (token.size() > 4096 || !HeaderIsHs256(token)) return Invalid();
  jwt_t* raw = nullptr;
  const std::string text(token);
  if (jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(options_.secret.data()),
                 static_cast<int>(options_.secret.size())) != 0 ||
      raw == nullptr) {
    return Invalid();
  }
  JwtPtr jwt(raw);
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) return Invalid();
  auto str = [&](const char* name) -> std::string {
    const char* v = jwt_get_grant(jwt.get(), name);
    return v ? v : "";
  };
  auto num = [&](const char* name, int64_t* out) {
    errno = 0;
    long v = jwt_get_grant_int(jwt.get(), name);
    if (errno != 0) return false;
    *out = v;
    return true;
  };
  SessionClaims c;
  c.user_id = str("sub");
  c.username = str("usr");
  c.jti = str("jti");
  if (str("iss") != options_.issuer || str("aud") != options_.audience || c.user_id.empty() ||
      c.jti.empty() || !num("iat", &c.issued_at) || !num("exp", &c.expires_at) ||
      !num("tv", &c.token_version)) {
    return Invalid();
  }
  const int64_t now = UnixSeconds(clock_->Now());
  if (c.expires_at <= now) return Invalid();
  // Issued in the future, or not valid yet, beyond the clock-skew leeway.
  if (c.issued_at > now + kClockLeewaySeconds) return Invalid();
  if (char* nbf = jwt_get_grants_json(jwt.get(), "nbf"); nbf != nullptr) {
    const auto value = nlohmann::json::parse(nbf, nullptr, /*allow_exceptions=*/false);
    free(nbf);
    if (!value.is_number_integer() || value.get<int64_t>() > now + kClockLeewaySeconds) {
      return Invalid();
    }
  }
  return c;
}

}  // namespace cinfer
