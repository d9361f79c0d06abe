// EngineRegistry: the engines compiled into this build, by name, and the
// choice of engine for a model file by sniffing its content. Built once in
// the composition root (no static registration); immutable afterwards and
// thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engines/engine.h"
#include "engines/model_format.h"

namespace cinfer {

class EngineRegistry {
 public:
  void Add(std::unique_ptr<Engine> engine, std::vector<ModelFormat> formats);

  std::vector<std::string> Names() const;
  // NotFound naming the known engines.
  absl::StatusOr<const Engine*> Get(std::string_view name) const;
  // The engine for a file's format: `requested` when given (rejected with the
  // reason when it cannot read this format), else the first engine registered
  // for the sniffed format.
  absl::StatusOr<const Engine*> Select(ModelFormat format, std::string_view requested) const;

 private:
  struct Entry {
    std::unique_ptr<Engine> engine;
    std::vector<ModelFormat> formats;
  };
  std::vector<Entry> entries_;
};

}  // namespace cinfer
