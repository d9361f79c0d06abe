// The config keys: each key's path, where it lives in Config, its bounds,
// allowed values or format check, and whether it applies live, at startup
// only, or is secret. Shared by the loader (config_loader.cc); the server also
// parses metrics.listen with ParseListenAddress.
#pragma once

#include <climits>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config/config.h"

namespace cinfer::config_fields {

using Target = std::variant<int*, bool*, std::string*, std::vector<std::string>*>;

struct FieldSpec {
  std::string path;
  Target target;
  int64_t min = INT_MIN;
  int64_t max = INT_MAX;
  std::vector<std::string> choices = {};
  // Strings only: the value's format (the error's message says what is wrong).
  absl::Status (*check)(std::string_view value) = nullptr;
};

// A listen address: "HOST:PORT" with HOST an IP address ("[...]" around IPv6)
// and PORT 0..65535 (0 picks a free port).
struct ListenAddress {
  std::string host;  // without brackets, as HttpServer::Options::host takes it
  int port = 0;
};
// InvalidArgument (the message says what is wrong, not which key) otherwise.
absl::StatusOr<ListenAddress> ParseListenAddress(std::string_view text);

// Every config key of `c` (targets point into it), section by section; key
// listings keep this order.
std::vector<FieldSpec> DescribeFields(Config& c);

// Applied without a restart (src/server/live_config.cc subscribes their owners).
bool IsLiveKey(std::string_view key);
// Only read at startup and never overridden at run time.
bool IsStartupOnlyKey(std::string_view key);
// Shown redacted.
bool IsSecretKey(std::string_view key);

}  // namespace cinfer::config_fields
