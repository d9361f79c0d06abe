// API token values: "cit_" + 43 base64url characters (256 random bits). Only
// their SHA-256 and last characters are ever stored.
#pragma once

#include <string>
#include <string_view>

namespace cinfer {

inline constexpr std::string_view kTokenPrefix = "cit_";
inline constexpr size_t kTokenLength = 47;
inline constexpr size_t kTokenSuffixLength = 4;

// A fresh value from OpenSSL's CSPRNG.
std::string NewTokenValue();
// True for "cit_" + 43 base64url characters.
bool IsWellFormedToken(std::string_view value);
// Lowercase hex SHA-256 of the value: the lookup key.
std::string TokenHash(std::string_view value);
// "cit_…" + the stored suffix: how admins tell tokens apart.
std::string TokenHint(std::string_view suffix);

}  // namespace cinfer
