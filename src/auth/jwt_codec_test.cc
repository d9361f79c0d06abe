#include "auth/jwt_codec.h"

#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include "absl/strings/escaping.h"
#include "common/strings.h"
#include "nlohmann/json.hpp"

namespace cinfer {
namespace {

const std::string kSecret(32, 'k');

std::string B64(std::string_view s) {
  std::string out;
  absl::WebSafeBase64Escape(ToAbsl(s), &out);
  return out;
}

std::string Sign(const std::string& header, const std::string& payload, const std::string& key,
                 const EVP_MD* md) {
  const std::string input = B64(header) + "." + B64(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + B64(std::string(reinterpret_cast<char*>(mac), len));
}

class JwtCodecTest : public ::testing::Test {
 protected:
  JwtCodecTest() : codec_(*JwtCodec::Create({.secret = kSecret}, &clock_)) {}

  nlohmann::json ValidClaims() {
    const int64_t now = UnixSeconds(clock_.Now());
    return {
        {"iss", "cinfer"}, {"aud", "cinfer-admin"}, {"sub", "u1"}, {"usr", "admin"}, {"jti", "j1"},
        {"iat", now},      {"exp", now + 60},       {"tv", 0}};
  }

  FakeClock clock_;
  JwtCodec codec_;
};

TEST_F(JwtCodecTest, IssuedTokensVerify) {
  SessionClaims c;
  c.user_id = "u1";
  c.username = "admin";
  c.token_version = 3;
  auto token = codec_.Issue(c);
  ASSERT_TRUE(token.ok());
  auto v = codec_.Verify(*token);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->user_id, "u1");
  EXPECT_EQ(v->username, "admin");
  EXPECT_EQ(v->token_version, 3);
  EXPECT_EQ(v->jti, c.jti);
  EXPECT_EQ(v->expires_at - v->issued_at, 3600);
}

TEST_F(JwtCodecTest, HandSignedHs256IsAcceptedAsPositiveControl) {
  auto token = Sign(R"({"alg":"HS256","typ":"JWT"})", ValidClaims().dump(), kSecret, EVP_sha256());
  EXPECT_TRUE(codec_.Verify(token).ok());
}

TEST_F(JwtCodecTest, ExpiredTokensAreRejected) {
  SessionClaims c;
  c.user_id = "u1";
  c.username = "admin";
  auto token = codec_.Issue(c);
  clock_.Advance(std::chrono::seconds(3601));
  EXPECT_EQ(codec_.Verify(*token).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(JwtCodecTest, FutureIatOrNbfBeyondTheLeewayIsRejected) {
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  const int64_t now = UnixSeconds(clock_.Now());
  auto with = [&](const char* claim, int64_t value) {
    auto c = ValidClaims();
    c[claim] = value;
    c["exp"] = now + 7200;
    return codec_.Verify(Sign(header, c.dump(), kSecret, EVP_sha256()));
  };
  EXPECT_FALSE(with("iat", now + 3600).ok());
  EXPECT_FALSE(with("iat", now + JwtCodec::kClockLeewaySeconds + 1).ok());
  EXPECT_TRUE(with("iat", now + JwtCodec::kClockLeewaySeconds).ok());
  EXPECT_FALSE(with("nbf", now + 3600).ok());
  EXPECT_FALSE(with("nbf", now + JwtCodec::kClockLeewaySeconds + 1).ok());
  EXPECT_TRUE(with("nbf", now + JwtCodec::kClockLeewaySeconds).ok());
  EXPECT_TRUE(with("nbf", now - 10).ok());
  auto text_nbf = ValidClaims();
  text_nbf["nbf"] = "soon";
  EXPECT_FALSE(codec_.Verify(Sign(header, text_nbf.dump(), kSecret, EVP_sha256())).ok());
}

TEST_F(JwtCodecTest, OtherAlgorithmsAreRejected) {
  const std::string claims = ValidClaims().dump();
  EXPECT_FALSE(codec_.Verify(B64(R"({"alg":"none","typ":"JWT"})") + "." + B64(claims) + ".").ok());
  EXPECT_FALSE(
      codec_.Verify(Sign(R"({"alg":"HS512","typ":"JWT"})", claims, kSecret, EVP_sha512())).ok());
  EXPECT_FALSE(codec_.Verify(Sign(R"({"alg":"HS384"})", claims, kSecret, EVP_sha384())).ok());
}

TEST_F(JwtCodecTest, WrongKeyTamperingAndMissingClaimsAreRejected) {
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  EXPECT_FALSE(
      codec_.Verify(Sign(header, ValidClaims().dump(), std::string(32, 'x'), EVP_sha256())).ok());
  auto good = Sign(header, ValidClaims().dump(), kSecret, EVP_sha256());
  auto parts = Split(good, '.');
  auto tampered_claims = ValidClaims();
  tampered_claims["sub"] = "u2";
  EXPECT_FALSE(
      codec_.Verify(StrCat(parts[0], ".", B64(tampered_claims.dump()), ".", parts[2])).ok());
  for (const char* claim : {"iss", "aud", "sub", "jti", "iat", "exp", "tv"}) {
    auto c = ValidClaims();
    c.erase(claim);
    EXPECT_FALSE(codec_.Verify(Sign(header, c.dump(), kSecret, EVP_sha256())).ok()) << claim;
  }
  auto wrong_aud = ValidClaims();
  wrong_aud["aud"] = "someone-else";
  EXPECT_FALSE(codec_.Verify(Sign(header, wrong_aud.dump(), kSecret, EVP_sha256())).ok());
  EXPECT_FALSE(codec_.Verify("not-a-jwt").ok());
  EXPECT_FALSE(codec_.Verify("a.b.c").ok());
}

TEST(JwtCodecCreateTest, RejectsShortSecrets) {
  FakeClock clock;
  EXPECT_FALSE(JwtCodec::Create({.secret = "short"}, &clock).ok());
}

}  // namespace
}  // namespace cinfer
