// ServingPlan: how many worker instances and engine threads a published model
// gets. What the model's config sets is kept; what it leaves out (instances 0,
// engine_options.threads 0) is sized from the machine's cores so that
// instances x threads fits them (docs/PERFORMANCE.md, "Defaults"):
//   neither set      instances = min(cores, 4), threads = max(1, cores / instances)
//   instances only   threads   = max(1, cores / instances)
//   threads only     instances = max(1, cores / threads)
// Intra-op spinning is turned off whenever several instances share the cores
// (a spinning thread burns the core another instance needs).
#pragma once

#include <string>

#include "models/model_config.h"

namespace cinfer {

struct ServingPlan {
  int instances = 1;
  int threads = 1;
  bool allow_spinning = true;
  std::string rule;  // how the numbers were chosen, for the serving info
};

// `cores` < 1 is taken as 1.
ServingPlan PlanServing(const ModelConfig& config, int cores);

}  // namespace cinfer
