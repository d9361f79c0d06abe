// Structured log lines. A message that starts with kLogFieldsMarker carries a
// JSON object after it (e.g. the access log's fields): the JSON log formatter
// (server/json_log_formatter.h) merges its members into the line's object;
// with server.log_format: text such messages are never written.
#pragma once

namespace cinfer {

inline constexpr char kLogFieldsMarker = '\x1f';  // ASCII unit separator

}  // namespace cinfer
