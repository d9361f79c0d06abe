// Loads Config from an optional YAML file, then applies CINFER_<SECTION>__<KEY>
// environment overrides, then validates. Unknown keys and invalid values are
// errors naming the key (e.g. "server.port"). Stateless and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"

namespace cinfer {

using Environment = std::vector<std::pair<std::string, std::string>>;

absl::StatusOr<Config> LoadConfig(const std::optional<std::string>& yaml_path,
                                  const Environment& env);

// Same, from YAML text (used by tests and `cinfer` when reading stdin).
absl::StatusOr<Config> LoadConfigFromString(const std::string& yaml_text, const Environment& env);

// Every key path this build understands, in declaration order.
std::vector<std::string> ConfigKeys();

}  // namespace cinfer
