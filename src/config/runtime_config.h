// The configuration of a running server: what was loaded at start, what the
// runtime override file adds, and what PATCH /api/v1/internal/system/config
// changes (design §4.5.4: validate → save → notify → done).
//
// Current() is the configuration the modules run with: live keys as last
// patched, restart keys as they were at start. Each change publishes one
// immutable snapshot, and listeners are called with it in order, so a module
// never sees half a change. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "config/config_loader.h"

namespace cinfer {

class RuntimeConfig {
 public:
  struct Options {
    std::optional<std::string> file_path;  // the YAML config file, if any
    Environment env;
  };
  // Loads file and environment, then `<data_dir>/config-override.yaml` if present.
  static absl::StatusOr<std::unique_ptr<RuntimeConfig>> Load(const Options& options);

  std::shared_ptr<const Config> Current() const ABSL_LOCKS_EXCLUDED(mu_);
  const std::string& override_path() const { return override_path_; }

  struct KeyState {
    ConfigKeyInfo info;
    ConfigValue value;                   // running
    ConfigValue default_value;           // built in
    ConfigSource source;                 // of the saved (desired) value
    std::optional<ConfigValue> pending;  // saved restart-key value not running yet
  };
  std::vector<KeyState> Describe() const ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<std::string> PendingRestart() const;

  struct Change {
    std::string key;
    ConfigValue old_value;  // saved value before / after
    ConfigValue new_value;
    bool secret = false;
  };
  // key → value, or nullopt to drop the key's override. All or nothing:
  // unknown key or bad value 422 (details.field), environment-fixed key 409,
  // startup-only key 409; nothing is written then. Otherwise the override file
  // is replaced atomically, then live keys are published and listeners called.
  using Patch = std::vector<std::pair<std::string, std::optional<ConfigValue>>>;
  absl::StatusOr<std::vector<Change>> Apply(const Patch& patch) ABSL_LOCKS_EXCLUDED(apply_mu_, mu_);

  using Listener = std::function<void(const Config&)>;
  // Called with every new snapshot (not with the current one). Returns an id.
  int Subscribe(Listener listener) ABSL_LOCKS_EXCLUDED(mu_);
  void Unsubscribe(int id) ABSL_LOCKS_EXCLUDED(apply_mu_, mu_);

 private:
  RuntimeConfig(Options options, std::string file_yaml, std::string override_path,
                ConfigOverrides overrides, LayeredConfig loaded);

  const Options options_;
  const std::string file_yaml_;  // the config file as read at start
  const std::string override_path_;
  const Config startup_;  // restart keys keep these values

  // One Apply at a time; held while listeners run.
  Mutex apply_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable Mutex mu_;
  ConfigOverrides overrides_ ABSL_GUARDED_BY(mu_);
  LayeredConfig desired_ ABSL_GUARDED_BY(mu_);  // file + overrides + env
  std::shared_ptr<const Config> running_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<int, Listener>> listeners_ ABSL_GUARDED_BY(mu_);
  int next_listener_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace cinfer
