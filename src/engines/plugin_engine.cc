#include "engines/plugin_engine.h"

#include <dlfcn.h>

#include <filesystem>

#include "common/strings.h"
#include "engines/engine_plugin.h"
#include "spdlog/spdlog.h"

namespace cinfer {

PluginEngine::PluginEngine(Options options) : options_(std::move(options)) {}

// The engine object is destroyed while its plugin is still mapped (it is never
// unmapped); the handle from dlopen is deliberately not closed.
PluginEngine::~PluginEngine() = default;

std::string_view PluginStateName(PluginEngine::State s) {
  switch (s) {
    case PluginEngine::State::kAvailable:
      return "available";
    case PluginEngine::State::kLoaded:
      return "loaded";
    case PluginEngine::State::kUnavailable:
      return "unavailable";
  }
  return "unavailable";
}

PluginEngine::Status PluginEngine::status() const {
  MutexLock lock(&mu_);
  if (engine_) return {State::kLoaded, ""};
  if (tried_) return {State::kUnavailable, std::string(failure_.message())};
  std::error_code ec;
  if (!std::filesystem::is_regular_file(options_.library, ec)) {
    return {State::kUnavailable, StrCat("plugin ", options_.library, " not found")};
  }
  return {State::kAvailable, ""};
}

absl::StatusOr<std::unique_ptr<Engine>> PluginEngine::OpenLocked() const {
  const std::string& lib = options_.library;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(lib, ec)) {
    return absl::FailedPreconditionError(StrCat("plugin ", lib, " not found"));
  }
  // RTLD_LOCAL: each backend keeps its own symbols (two engines may bundle
  // different copies of a library); RTLD_NOW: a missing symbol fails here, not
  // in the middle of a request.
  void* handle = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return absl::FailedPreconditionError(
        StrCat("plugin ", lib, " cannot be opened: ", why != nullptr ? why : "unknown error"));
  }
  auto entry = reinterpret_cast<CinferEnginePluginEntry>(dlsym(handle, "cinfer_engine_plugin_v1"));
  const EnginePluginApi* api = entry != nullptr ? entry() : nullptr;
  if (api == nullptr || api->abi == nullptr || api->create == nullptr) {
    return absl::FailedPreconditionError(
        StrCat("plugin ", lib, " does not export cinfer_engine_plugin_v1"));
  }
  if (std::string_view(api->abi) != kEnginePluginAbi) {
    return absl::FailedPreconditionError(StrCat("plugin ", lib, " was built for ", api->abi,
                                                ", this server needs ", kEnginePluginAbi));
  }
  if (api->name == nullptr || options_.name != api->name) {
    return absl::FailedPreconditionError(
        StrCat("plugin ", lib, " is not the '", options_.name, "' engine"));
  }
  auto engine = api->create(options_.options_json);
  if (!engine.ok()) {
    return absl::FailedPreconditionError(
        StrCat("the ", options_.name, " engine cannot start: ", engine.status().message()));
  }
  return engine;
}

absl::StatusOr<const Engine*> PluginEngine::Open() const {
  MutexLock lock(&mu_);
  if (engine_) return engine_.get();
  if (tried_) return failure_;
  tried_ = true;
  auto engine = OpenLocked();
  if (!engine.ok()) {
    failure_ = engine.status();
    spdlog::error("engine {} unavailable: {}", options_.name, failure_.message());
    return failure_;
  }
  engine_ = *std::move(engine);
  spdlog::info("engine {} loaded from {}", options_.name, options_.library);
  return engine_.get();
}

absl::StatusOr<std::unique_ptr<LoadedModel>> PluginEngine::Load(const std::string& path,
                                                                const LoadOptions& options) const {
  auto engine = Open();
  if (!engine.ok()) return engine.status();
  return (*engine)->Load(path, options);
}

}  // namespace cinfer
