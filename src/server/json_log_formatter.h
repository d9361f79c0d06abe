// server.log_format: json — every log line one JSON object:
//   {"time":"2026-11-30T08:00:00.123Z","level":"info","logger":"cinfer","msg":"..."}
// A message carrying fields (common/log_fields.h: the access log) has them
// merged in instead of "msg". Values are escaped JSON; invalid UTF-8 is
// replaced. Plugged into spdlog as its formatter.
#pragma once

#include <memory>

#include "spdlog/formatter.h"

namespace cinfer {

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// Installs JsonLogFormatter on the default logger's sinks (call again after
// the default logger is replaced).
void UseJsonLogs();

}  // namespace cinfer
