#include "tokens/token_value.h"

#include "common/random.h"
#include "common/strings.h"

namespace cinfer {

std::string NewTokenValue() {
  std::string b64 = Base64Encode(RandomBytes(32));
  std::string out(kTokenPrefix);
  for (char c : b64) {
    if (c == '=') break;
    out.push_back(c == '+' ? '-' : c == '/' ? '_' : c);
  }
  return out;
}

bool IsWellFormedToken(std::string_view value) {
  if (value.size() != kTokenLength || !value.starts_with(kTokenPrefix)) return false;
  for (char c : value.substr(kTokenPrefix.size())) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string TokenHash(std::string_view value) { return Sha256Hex(value); }

std::string TokenHint(std::string_view suffix) { return StrCat(kTokenPrefix, "…", suffix); }

}  // namespace cinfer
