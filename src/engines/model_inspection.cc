#include "engines/model_inspection.h"

#include <sys/resource.h>

#include <charconv>
#include <chrono>
#include <cstring>

#include "common/errors.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cinfer {
namespace {

double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

double PeakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

absl::StatusOr<const Engine*> ChooseEngine(const EngineRegistry& registry, const std::string& path,
                                           const std::string& requested, ModelFormat* format) {
  auto content = ReadFileToString(path);
  if (!content.ok()) return NotFoundError(StrCat("cannot read model file ", path));
  if (content->empty()) return ValidationError("the model file is empty");
  *format = SniffModelFormat(*content);
  return registry.Select(*format, requested);
}

absl::StatusOr<std::vector<Tensor>> SyntheticInputs(const std::vector<TensorSpec>& inputs,
                                                    const std::map<std::string, Shape>& shapes,
                                                    int64_t batch) {
  std::vector<Tensor> out;
  for (const TensorSpec& spec : inputs) {
    Shape shape = spec.shape;
    if (auto it = shapes.find(spec.name); it != shapes.end()) {
      shape = it->second;
    } else if (shape.empty()) {
      shape = {batch, 3, 224, 224};  // TorchScript declares no shapes: assume an image batch
    }
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] >= 0) continue;
      shape[i] = i == 0 ? batch : (shape.size() == 4 && i >= 2 ? 224 : 1);
    }
    ASSIGN_OR_RETURN(Tensor t, MakeTensor(spec.name, spec.dtype, shape));
    const size_t n = t.data.size() / ElementSize(t.dtype);
    uint32_t state = 12345;
    auto next = [&state] {
      state = state * 1664525u + 1013904223u;
      return static_cast<float>(state >> 8) / static_cast<float>(1u << 24);
    };
    if (t.dtype == DataType::kFp32) {
      for (size_t i = 0; i < n; ++i) t.As<float>()[i] = next();
    } else if (t.dtype == DataType::kFp64) {
      for (size_t i = 0; i < n; ++i) t.As<double>()[i] = next();
    }
    out.push_back(std::move(t));
  }
  return out;
}

namespace {

absl::StatusOr<InspectionReport> Inspect(const EngineRegistry& registry, const std::string& path,
                                         const InspectOptions& options) {
  InspectionReport report;
  ASSIGN_OR_RETURN(const Engine* engine,
                   ChooseEngine(registry, path, options.engine, &report.format));
  report.engine = std::string(engine->name());
  LoadOptions load{options.shapes, options.threads};
  auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::unique_ptr<LoadedModel> model, engine->Load(path, load));
  report.load_ms = MsSince(start);
  report.inputs = model->inputs();
  report.outputs = model->outputs();
  report.devices = model->devices();
  report.fallback_reason = model->fallback_reason();
  ASSIGN_OR_RETURN(auto inputs, SyntheticInputs(model->inputs(), options.shapes));
  start = std::chrono::steady_clock::now();
  auto outputs = model->Run(inputs);
  report.test_infer_ms = MsSince(start);
  if (!outputs.ok()) {
    return ValidationError(StrCat("the test inference failed: ", outputs.status().message()));
  }
  // Engines that cannot declare outputs (TorchScript, OpenCV) learn them here.
  for (size_t i = 0; i < outputs->size(); ++i) {
    const Tensor& t = (*outputs)[i];
    if (i >= report.outputs.size()) report.outputs.push_back({t.name, t.dtype, t.shape});
    if (report.outputs[i].shape.empty()) {
      report.outputs[i].shape = t.shape;
      report.outputs[i].dtype = t.dtype;
    }
  }
  report.peak_rss_mb = PeakRssMb();
  return report;
}

}  // namespace

absl::StatusOr<InspectionReport> InspectModel(const EngineRegistry& registry,
                                              const std::string& path,
                                              const InspectOptions& options) {
  auto report = Inspect(registry, path, options);
  // Whatever made the model unusable is a rejection of the model, with its reason.
  if (!report.ok() && report.status().code() == absl::StatusCode::kInvalidArgument) {
    return MakeError(ErrorCode::kModelRejected, ToStd(report.status().message()));
  }
  return report;
}

nlohmann::json TensorSpecsToJson(const std::vector<TensorSpec>& specs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : specs) {
    nlohmann::json shape = s.shape.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.shape);
    out.push_back({{"name", s.name}, {"datatype", DataTypeName(s.dtype)}, {"shape", shape}});
  }
  return out;
}

nlohmann::json ReportToJson(const InspectionReport& r) {
  nlohmann::json j = {{"engine", r.engine},
                      {"format", ModelFormatName(r.format)},
                      {"inputs", TensorSpecsToJson(r.inputs)},
                      {"outputs", TensorSpecsToJson(r.outputs)},
                      {"devices", r.devices},
                      {"load_ms", r.load_ms},
                      {"test_infer_ms", r.test_infer_ms},
                      {"peak_rss_mb", r.peak_rss_mb}};
  if (!r.fallback_reason.empty()) j["fallback_reason"] = r.fallback_reason;
  return j;
}

absl::StatusOr<std::pair<std::string, Shape>> ParseShapeFlag(std::string_view flag) {
  const size_t eq = flag.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return ValidationError(StrCat("bad shape '", flag, "': expected NAME=d1,d2,..."));
  }
  Shape shape;
  for (std::string_view part : Split(flag.substr(eq + 1), ',')) {
    int64_t d = 0;
    part = Trim(part);
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), d);
    if (ec != std::errc() || p != part.data() + part.size() || d <= 0 || d > (int64_t{1} << 31)) {
      return ValidationError(StrCat("bad dimension '", part, "' in shape '", flag, "'"));
    }
    shape.push_back(d);
  }
  return std::pair<std::string, Shape>(std::string(flag.substr(0, eq)), shape);
}

}  // namespace cinfer
