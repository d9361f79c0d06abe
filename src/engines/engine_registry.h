// EngineRegistry: the engines of this server, by name, and the choice of
// engine for a model file by sniffing its content. Engines are plugins
// (engines/plugin_engine.h) opened on first use, or engine objects added
// directly (tests). Built once in the composition root (no static
// registration); its list is immutable afterwards and it is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engines/engine.h"
#include "engines/model_format.h"
#include "engines/plugin_engine.h"

namespace cinfer {

class EngineRegistry {
 public:
  void Add(std::unique_ptr<Engine> engine, std::vector<ModelFormat> formats);
  void AddPlugin(std::unique_ptr<PluginEngine> engine, std::vector<ModelFormat> formats);

  std::vector<std::string> Names() const;
  // Every engine with the formats it reads and its state ("loaded" for engines
  // added directly), without opening any plugin.
  struct EngineInfo {
    std::string name;
    std::vector<std::string> formats;
    std::string state;   // available | loaded | unavailable
    std::string reason;  // why unavailable
  };
  std::vector<EngineInfo> Describe() const;
  // NotFound naming the known engines.
  absl::StatusOr<const Engine*> Get(std::string_view name) const;
  // The engine for a file's format: `requested` when given (rejected with the
  // reason when it cannot read this format), else the first engine registered
  // for the sniffed format that is not known to be unavailable.
  absl::StatusOr<const Engine*> Select(ModelFormat format, std::string_view requested) const;

 private:
  struct Entry {
    std::unique_ptr<Engine> engine;
    std::vector<ModelFormat> formats;
    const PluginEngine* plugin = nullptr;  // engine.get() when it is a plugin
  };
  bool Unavailable(const Entry& e) const;
  std::vector<Entry> entries_;
};

}  // namespace cinfer
