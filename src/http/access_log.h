// The access log: one line per answered request, never credentials. Text
// ("1.2.3.4 \"GET /x\" 200 15B 0.3ms rid=...") or, with server.log_format:
// json, structured fields (common/log_fields.h).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cinfer::http {

struct AccessEntry {
  std::string_view client_ip;  // "a via b" when a trusted proxy named the client
  std::string_view method;
  std::string_view path;
  std::string_view route;  // the matched route's pattern; empty when none
  std::string_view request_id;
  int status = 0;
  size_t bytes = 0;
  double ms = 0;
  // What handlers and authenticators added (token_id, model_id, ...).
  const std::vector<std::pair<std::string, std::string>>* fields = nullptr;
};

void LogAccess(const AccessEntry& entry, bool json);

}  // namespace cinfer::http
