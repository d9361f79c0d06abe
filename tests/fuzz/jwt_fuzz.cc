// Fuzzes the admin session token decoder (auth/jwt_codec.h) with a fixed secret and clock.
// Three ways per input:
//  1. the input as a token, verified as is;
//  2. "<header JSON>\n<claims JSON>": both encoded and correctly signed here, so the claim
//     checks behind the signature are reached too;
//  3. "<user id>\n<username>": issued by the codec and verified, which must give them back.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <string>

#include "auth/jwt_codec.h"
#include "common/strings.h"
#include "fuzz_check.h"

namespace {

const std::string kSecret = "fuzz-secret-0123456789abcdef0123456789abcdef";

const cinfer::JwtCodec& Codec() {
  static const cinfer::FakeClock clock;
  static const cinfer::JwtCodec codec = [] {
    cinfer::JwtCodec::Options options;
    options.secret = kSecret;
    return *cinfer::JwtCodec::Create(options, &clock);
  }();
  return codec;
}

std::string Base64Url(std::string_view in) {
  std::string out = cinfer::Base64Encode(in);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string Signed(std::string_view header, std::string_view claims) {
  const std::string input = Base64Url(header) + "." + Base64Url(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_size);
  return input + "." + Base64Url(std::string_view(reinterpret_cast<char*>(mac), mac_size));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = cinfer::fuzz::AsText(data, size);
  const cinfer::JwtCodec& codec = Codec();
  (void)codec.Verify(input);

  std::string_view rest = input;
  std::string_view first;
  if (!cinfer::fuzz::SplitFirst(rest, '\n', &first)) return 0;
  auto claims = codec.Verify(Signed(first, rest));
  if (claims.ok()) FUZZ_CHECK(!claims->user_id.empty() && !claims->jti.empty());

  // Issue refuses nothing but what libjwt cannot hold: C strings end at a NUL.
  if (first.find('\0') != std::string_view::npos || rest.find('\0') != std::string_view::npos) {
    return 0;
  }
  cinfer::SessionClaims issued;
  issued.user_id = first;
  issued.username = rest;
  auto token = codec.Issue(issued);
  if (!token.ok()) return 0;
  auto back = codec.Verify(*token);
  // Tokens over Verify's 4096-byte limit are refused by design.
  if (token->size() > 4096 || issued.user_id.empty()) return 0;
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->user_id == issued.user_id && back->username == issued.username);
  FUZZ_CHECK(back->jti == issued.jti && back->expires_at == issued.expires_at);
  return 0;
}
