#include "http/request.h"

#include "common/strings.h"

namespace cinfer::http {

std::optional<std::string_view> Request::Header(std::string_view lowercase_name) const {
  auto it = headers.find(std::string(lowercase_name));
  if (it == headers.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::optional<std::string_view> Request::QueryParam(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

Response Response::Json(int status, std::string json_text) {
  return Response{status, "application/json", std::move(json_text), {}};
}

Response Response::NoContent() { return Response{204, "", "", {}}; }

Response Response::Text(int status, std::string content_type, std::string body) {
  return Response{status, std::move(content_type), std::move(body), {}};
}

bool PercentDecode(std::string_view in, bool plus_as_space, std::string* out) {
  std::string result;
  result.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      int hi = hex(in[i + 1]);
      int lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      result.push_back(static_cast<char>(hi << 4 | lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      result.push_back(' ');
    } else {
      result.push_back(c);
    }
  }
  *out = std::move(result);
  return true;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::string_view part : Split(query, '&', /*skip_empty=*/true)) {
    const size_t eq = part.find('=');
    std::string_view key = part.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    std::string k, v;
    if (!PercentDecode(key, true, &k) || !PercentDecode(value, true, &v)) continue;
    out.emplace_back(std::move(k), std::move(v));
  }
  return out;
}

}  // namespace cinfer::http
