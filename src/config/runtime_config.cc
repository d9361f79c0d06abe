#include "config/runtime_config.h"

#include <algorithm>
#include <filesystem>

#include "common/errors.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cinfer {
namespace {

absl::Status KeyConflict(ErrorCode code, const std::string& key, std::string_view why) {
  return WithField(MakeError(code, why), key);
}

// The running configuration: `desired` for live keys, `startup` for the rest.
Config Running(const Config& startup, const Config& desired) {
  Config out = startup;
  const std::vector<ConfigKeyInfo> keys = DescribeConfigKeys();
  const std::vector<ConfigValue> values = ConfigValues(desired);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].apply != ConfigApply::kLive) continue;
    absl::Status st = SetConfigValue(out, keys[i].path, values[i]);
    (void)st;  // desired was validated by the same rules
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RuntimeConfig>> RuntimeConfig::Load(const Options& options) {
  std::string file_yaml;
  if (options.file_path.has_value()) {
    auto text = ReadFileToString(*options.file_path);
    if (!text.ok()) {
      return absl::NotFoundError(StrCat("cannot read config file ", *options.file_path));
    }
    file_yaml = *std::move(text);
  }
  auto base = LoadLayeredConfig(file_yaml, {}, options.env);
  if (!base.ok()) {
    if (!options.file_path.has_value()) return base.status();
    return absl::Status(base.status().code(),
                        StrCat(*options.file_path, ": ", ToStd(base.status().message())));
  }
  const std::string override_path = base->config.server.data_dir + "/config-override.yaml";
  ConfigOverrides overrides;
  std::error_code ec;
  if (std::filesystem::exists(override_path, ec)) {
    ASSIGN_OR_RETURN(std::string text, ReadFileToString(override_path));
    auto parsed = ParseConfigOverrides(text);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          StrCat(override_path, ": ", ToStd(parsed.status().message())));
    }
    overrides = *std::move(parsed);
  }
  auto loaded = LoadLayeredConfig(file_yaml, overrides, options.env);
  if (!loaded.ok()) {
    return absl::InvalidArgumentError(
        StrCat(override_path, ": ", ToStd(loaded.status().message())));
  }
  return std::unique_ptr<RuntimeConfig>(new RuntimeConfig(
      options, std::move(file_yaml), override_path, std::move(overrides), *std::move(loaded)));
}

RuntimeConfig::RuntimeConfig(Options options, std::string file_yaml, std::string override_path,
                             ConfigOverrides overrides, LayeredConfig loaded)
    : options_(std::move(options)),
      file_yaml_(std::move(file_yaml)),
      override_path_(std::move(override_path)),
      startup_(loaded.config),
      overrides_(std::move(overrides)),
      desired_(std::move(loaded)),
      running_(std::make_shared<const Config>(startup_)) {}

std::shared_ptr<const Config> RuntimeConfig::Current() const {
  MutexLock lock(&mu_);
  return running_;
}

std::vector<RuntimeConfig::KeyState> RuntimeConfig::Describe() const {
  std::shared_ptr<const Config> running;
  LayeredConfig desired;
  {
    MutexLock lock(&mu_);
    running = running_;
    desired = desired_;
  }
  const std::vector<ConfigKeyInfo> keys = DescribeConfigKeys();
  const std::vector<ConfigValue> now = ConfigValues(*running);
  const std::vector<ConfigValue> defaults = ConfigValues(Config{});
  const std::vector<ConfigValue> saved = ConfigValues(desired.config);
  std::vector<KeyState> out;
  for (size_t i = 0; i < keys.size(); ++i) {
    KeyState k{keys[i], now[i], defaults[i], desired.sources.at(keys[i].path), std::nullopt};
    if (saved[i] != now[i]) k.pending = saved[i];
    out.push_back(std::move(k));
  }
  return out;
}

std::vector<std::string> RuntimeConfig::PendingRestart() const {
  std::vector<std::string> out;
  for (const auto& k : Describe()) {
    if (k.pending.has_value()) out.push_back(k.info.path);
  }
  return out;
}

absl::StatusOr<std::vector<RuntimeConfig::Change>> RuntimeConfig::Apply(const Patch& patch) {
  MutexLock apply_lock(&apply_mu_);
  ConfigOverrides overrides;
  LayeredConfig before;
  {
    MutexLock lock(&mu_);
    overrides = overrides_;
    before = desired_;
  }
  const std::vector<ConfigKeyInfo> keys = DescribeConfigKeys();
  for (const auto& [key, value] : patch) {
    auto info = std::ranges::find(keys, key, &ConfigKeyInfo::path);
    if (info == keys.end()) {
      return FieldValidationError(key, StrCat("unknown config key '", key, "'"));
    }
    if (info->apply == ConfigApply::kStartupOnly) {
      return KeyConflict(ErrorCode::kNotRuntimeConfigurable, key,
                         StrCat("config key '", key,
                                "' locates the data directory and can only be set in the config "
                                "file or the environment"));
    }
    if (before.sources.at(key) == ConfigSource::kEnvironment) {
      return KeyConflict(ErrorCode::kFixedByEnvironment, key,
                         StrCat("config key '", key, "' is set by the environment variable ",
                                info->env_name, ", which wins over runtime changes"));
    }
    if (value.has_value()) {
      overrides[key] = *value;
    } else {
      overrides.erase(key);
    }
  }
  ASSIGN_OR_RETURN(LayeredConfig after, LoadLayeredConfig(file_yaml_, overrides, options_.env));

  std::vector<Change> changes;
  const std::vector<ConfigValue> old_values = ConfigValues(before.config);
  const std::vector<ConfigValue> new_values = ConfigValues(after.config);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (old_values[i] != new_values[i]) {
      changes.push_back({keys[i].path, old_values[i], new_values[i], keys[i].secret});
    }
  }
  RETURN_IF_ERROR(WriteFileAtomically(override_path_, SerializeConfigOverrides(overrides), 0600));

  auto running = std::make_shared<const Config>(Running(startup_, after.config));
  std::vector<std::pair<int, Listener>> listeners;
  {
    MutexLock lock(&mu_);
    overrides_ = std::move(overrides);
    desired_ = std::move(after);
    running_ = running;
    listeners = listeners_;
  }
  for (const auto& [id, listener] : listeners) listener(*running);
  return changes;
}

int RuntimeConfig::Subscribe(Listener listener) {
  MutexLock lock(&mu_);
  const int id = next_listener_++;
  listeners_.emplace_back(id, std::move(listener));
  return id;
}

void RuntimeConfig::Unsubscribe(int id) {
  MutexLock apply_lock(&apply_mu_);  // no call of it is in progress after this returns
  MutexLock lock(&mu_);
  std::erase_if(listeners_, [id](const auto& l) { return l.first == id; });
}

}  // namespace cinfer
