// PluginEngine: an Engine whose backend is a plugin (engines/engine_plugin.h),
// opened with dlopen the first time a model is loaded through it. Until then
// the process maps none of the backend's libraries: a server without models of
// an engine pays nothing for it.
//
// A plugin that is missing, cannot be opened, was built for another ABI or
// whose engine cannot start leaves this engine unavailable with the reason
// (state()); every Load then returns that reason as FailedPrecondition. The
// first failure is kept: the plugin is not retried on every request.
//
// A loaded plugin stays mapped until the process exits (its models and their
// framework threads may outlive any one owner). Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "engines/engine.h"

namespace cinfer {

class PluginEngine final : public Engine {
 public:
  struct Options {
    std::string name;          // the engine's name, e.g. "openvino"
    std::string library;       // path of libcinfer_engine_<name>.so
    std::string options_json;  // its configuration section, passed to create()
  };
  explicit PluginEngine(Options options);
  ~PluginEngine() override;

  std::string_view name() const override { return options_.name; }
  absl::StatusOr<std::unique_ptr<LoadedModel>> Load(const std::string& path,
                                                    const LoadOptions& options) const override;

  enum class State { kAvailable, kLoaded, kUnavailable };
  struct Status {
    State state = State::kAvailable;
    std::string reason;  // why kUnavailable
  };
  // Without loading anything: kAvailable while the plugin file exists and has not
  // been tried yet.
  Status status() const;
  const std::string& library() const { return options_.library; }

  // Opens the plugin now (what Load does first). The engine, or why there is none.
  absl::StatusOr<const Engine*> Open() const;

 private:
  absl::StatusOr<std::unique_ptr<Engine>> OpenLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable Mutex mu_;
  mutable bool tried_ ABSL_GUARDED_BY(mu_) = false;
  mutable std::unique_ptr<Engine> engine_ ABSL_GUARDED_BY(mu_);
  mutable absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

std::string_view PluginStateName(PluginEngine::State s);  // "available" | "loaded" | "unavailable"

}  // namespace cinfer
