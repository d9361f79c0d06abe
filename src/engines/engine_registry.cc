#include "engines/engine_registry.h"

#include <algorithm>

#include "common/errors.h"
#include "common/strings.h"

namespace cinfer {

void EngineRegistry::Add(std::unique_ptr<Engine> engine, std::vector<ModelFormat> formats) {
  entries_.push_back({std::move(engine), std::move(formats)});
}

void EngineRegistry::AddPlugin(std::unique_ptr<PluginEngine> engine,
                               std::vector<ModelFormat> formats) {
  const PluginEngine* plugin = engine.get();
  entries_.push_back({std::move(engine), std::move(formats), plugin});
}

bool EngineRegistry::Unavailable(const Entry& e) const {
  return e.plugin != nullptr && e.plugin->status().state == PluginEngine::State::kUnavailable;
}

std::vector<EngineRegistry::EngineInfo> EngineRegistry::Describe() const {
  std::vector<EngineInfo> out;
  for (const auto& e : entries_) {
    EngineInfo info{std::string(e.engine->name()), {}, "loaded", ""};
    for (ModelFormat f : e.formats) info.formats.emplace_back(ModelFormatName(f));
    if (e.plugin != nullptr) {
      PluginEngine::Status st = e.plugin->status();
      info.state = PluginStateName(st.state);
      info.reason = std::move(st.reason);
    }
    out.push_back(std::move(info));
  }
  return out;
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
        "the file is not a model this server reads (expected an ONNX model, a TorchScript "
        "archive, an OpenVINO IR or a PaddlePaddle inference model; empty, truncated or random "
        "files are refused)");
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
    if (requested.empty() && reads && !Unavailable(e)) return e.engine.get();
  }
  if (!requested.empty()) return Get(requested).status();
  return ValidationError(
      StrCat("no engine in this build loads ", ModelFormatName(format), " models"));
}

}  // namespace cinfer
