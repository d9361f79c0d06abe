#include "engines/engine_registry.h"

#include <algorithm>

#include "common/errors.h"
#include "common/strings.h"

namespace cinfer {

void EngineRegistry::Add(std::unique_ptr<Engine> engine, std::vector<ModelFormat> formats) {
  entries_.push_back({std::move(engine), std::move(formats)});
}

std::vector<std::string> EngineRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& e : entries_) names.emplace_back(e.engine->name());
  return names;
}

absl::StatusOr<const Engine*> EngineRegistry::Get(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e.engine->name() == name) return e.engine.get();
  }
  return ValidationError(
      StrCat("unknown engine '", name, "'; this build has: ", Join(Names(), ", ")));
}

absl::StatusOr<const Engine*> EngineRegistry::Select(ModelFormat format,
                                                     std::string_view requested) const {
  if (format == ModelFormat::kUnknown) {
    return ValidationError(
        "the file is not a model this server reads (expected an ONNX model or a TorchScript "
        "archive; empty, truncated or random files are refused)");
  }
  for (const auto& e : entries_) {
    const bool reads = std::find(e.formats.begin(), e.formats.end(), format) != e.formats.end();
    if (!requested.empty() && e.engine->name() == requested) {
      if (!reads) {
        return ValidationError(StrCat("the file is a model in ", ModelFormatName(format),
                                      " format, which the '", requested, "' engine cannot load"));
      }
      return e.engine.get();
    }
    if (requested.empty() && reads) return e.engine.get();
  }
  if (!requested.empty()) return Get(requested).status();
  return ValidationError(
      StrCat("no engine in this build loads ", ModelFormatName(format), " models"));
}

}  // namespace cinfer
