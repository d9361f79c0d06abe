// ModelValidator: validates an untrusted model file in a separate child
// process (`cinfer model inspect`), under an address-space limit
// (RLIMIT_AS), a CPU-time limit (RLIMIT_CPU) and a wall-clock timeout, so a
// model that crashes, hangs or allocates gigabytes while loading is rejected
// with a reason and cannot harm the calling process. Thread-safe; each
// Validate call blocks its caller until the child ends.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "engines/tensor.h"
#include "nlohmann/json.hpp"

namespace cinfer {

class ModelValidator {
 public:
  struct Options {
    std::string executable;          // the cinfer binary
    std::string config_path;         // passed on so engine settings match; may be empty
    int64_t memory_limit_mb = 4096;  // address space of the child
    int cpu_limit_s = 120;
    std::chrono::seconds timeout{180};
  };
  explicit ModelValidator(Options options) : options_(std::move(options)) {}

  // The inspection report JSON (see engines/model_inspection.h) on success;
  // InvalidArgument with error code MODEL_REJECTED and the reason otherwise.
  absl::StatusOr<nlohmann::json> Validate(const std::string& path, const std::string& engine,
                                          const std::map<std::string, Shape>& shapes) const;

 private:
  Options options_;
};

}  // namespace cinfer
