// Loads Config in layers — defaults, then an optional YAML file, then the
// runtime override file (flat dotted keys written by PATCH
// /api/v1/internal/system/config), then CINFER_<SECTION>__<KEY> environment
// variables — and validates. Unknown keys and invalid values are errors naming
// the key (e.g. "server.port"; also as `details.field`). Stateless and
// thread-safe; config/runtime_config.h keeps the running state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"

namespace cinfer {

using Environment = std::vector<std::pair<std::string, std::string>>;

// Where a key's effective value came from (later layers win).
enum class ConfigSource { kDefault, kFile, kOverride, kEnvironment };
std::string_view ConfigSourceName(ConfigSource source);

// How a change reaches the running server.
enum class ConfigApply {
  kLive,         // applied at once through change notifications
  kRestart,      // saved, effective after a restart
  kStartupOnly,  // only from the file or the environment (locates the override file)
};
std::string_view ConfigApplyName(ConfigApply apply);

enum class ConfigType { kInteger, kBoolean, kString, kList };
std::string_view ConfigTypeName(ConfigType type);

using ConfigValue = std::variant<int64_t, bool, std::string, std::vector<std::string>>;

struct ConfigKeyInfo {
  std::string path;  // "server.log_level"
  ConfigType type = ConfigType::kString;
  int64_t min = 0;  // integers only
  int64_t max = 0;
  std::vector<std::string> choices;  // strings with a fixed set
  ConfigApply apply = ConfigApply::kRestart;
  bool secret = false;   // never shown or audited in clear
  std::string env_name;  // CINFER_SERVER__LOG_LEVEL
};

// Every key this build understands, in declaration order.
std::vector<ConfigKeyInfo> DescribeConfigKeys();
std::vector<std::string> ConfigKeys();

// Every key's value in `config`, in the order of DescribeConfigKeys().
std::vector<ConfigValue> ConfigValues(const Config& config);
// Sets `key` with the type and range checks of start-up (422 naming the key).
absl::Status SetConfigValue(Config& config, std::string_view key, const ConfigValue& value);

// The runtime override layer: key → value.
using ConfigOverrides = std::map<std::string, ConfigValue>;
absl::StatusOr<ConfigOverrides> ParseConfigOverrides(const std::string& yaml_text);
std::string SerializeConfigOverrides(const ConfigOverrides& overrides);

struct LayeredConfig {
  Config config;
  std::map<std::string, ConfigSource> sources;  // every key
};

// defaults → `file_yaml` (the config file's text; empty for none) → overrides → env.
absl::StatusOr<LayeredConfig> LoadLayeredConfig(const std::string& file_yaml,
                                                const ConfigOverrides& overrides,
                                                const Environment& env);

absl::StatusOr<Config> LoadConfig(const std::optional<std::string>& yaml_path,
                                  const Environment& env);

// Same, from YAML text (used by tests and `cinfer` when reading stdin).
absl::StatusOr<Config> LoadConfigFromString(const std::string& yaml_text, const Environment& env);

}  // namespace cinfer
