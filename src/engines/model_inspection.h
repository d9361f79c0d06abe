// Model inspection: sniff a model file's format, load it in the chosen
// engine, describe its IO, and run one synthetic inference, timing both.
// This is what the isolated validator child (`cinfer model inspect`) runs.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engines/engine_registry.h"
#include "nlohmann/json.hpp"

namespace cinfer {

struct InspectOptions {
  std::string engine;                   // empty: chosen by sniffing
  std::map<std::string, Shape> shapes;  // resolves / fixes input dimensions
  int threads = 0;
};

struct InspectionReport {
  std::string engine;
  ModelFormat format = ModelFormat::kUnknown;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::vector<std::string> devices;
  std::string fallback_reason;
  double load_ms = 0;
  double test_infer_ms = 0;
  double peak_rss_mb = 0;
};

// The engine for `path`: sniffs the content, then EngineRegistry::Select.
absl::StatusOr<const Engine*> ChooseEngine(const EngineRegistry& registry, const std::string& path,
                                           const std::string& requested, ModelFormat* format);

// Concrete input tensors for a test inference: dynamic dimensions come from
// `shapes`, else batch 1 and 224 for the spatial dims of 4-D inputs, 1
// elsewhere. Float inputs hold a fixed pseudo-random pattern in [0, 1);
// integer and bool inputs are zero.
absl::StatusOr<std::vector<Tensor>> SyntheticInputs(const std::vector<TensorSpec>& inputs,
                                                    const std::map<std::string, Shape>& shapes,
                                                    int64_t batch = 1);

absl::StatusOr<InspectionReport> InspectModel(const EngineRegistry& registry,
                                              const std::string& path,
                                              const InspectOptions& options);

nlohmann::json TensorSpecsToJson(const std::vector<TensorSpec>& specs);
nlohmann::json ReportToJson(const InspectionReport& report);

// Parses "name=1,3,224,224" into (name, shape).
absl::StatusOr<std::pair<std::string, Shape>> ParseShapeFlag(std::string_view flag);

double PeakRssMb();

}  // namespace cinfer
