// String helpers over std::string_view. Debian's abseil is built with its own
// absl::string_view (not std::string_view), so its string utilities do not
// accept ours; these small helpers (and a fmt formatter for absl::string_view,
// e.g. Status::message()) keep the rest of the code on std types.
#pragma once

#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "fmt/format.h"

template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename FormatContext>
  auto format(absl::string_view s, FormatContext& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(s.data(), s.size()), ctx);
  }
};

namespace cinfer {

// Concatenates anything fmt can format.
template <class... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (fmt::format_to(std::back_inserter(out), "{}", args), ...);
  return out;
}

inline std::string_view ToStd(absl::string_view s) { return {s.data(), s.size()}; }
inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }

std::vector<std::string_view> Split(std::string_view text, char sep, bool skip_empty = false);
std::string_view Trim(std::string_view text);
std::string ToLower(std::string_view text);
std::string ReplaceAll(std::string_view text, std::string_view from, std::string_view to);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// Printable ASCII kept; every other byte (control characters, newlines, bytes
// from a client's file) written as \xNN; cut at `max_bytes` with "...".
std::string EscapeForLog(std::string_view text, size_t max_bytes = 2000);
// Base64url (RFC 4648 §5) without padding; decoding accepts padding too.
bool WebSafeBase64Decode(std::string_view in, std::string* out);
// Standard base64 (RFC 4648 §4) with padding; decoding also accepts missing padding.
std::string Base64Encode(std::string_view in);
bool Base64Decode(std::string_view in, std::string* out);

template <class Container>
std::string Join(const Container& parts, std::string_view sep) {
  std::string out;
  bool first = true;
  for (const auto& p : parts) {
    if (!first) out.append(sep);
    first = false;
    out.append(std::string_view(p));
  }
  return out;
}

}  // namespace cinfer
