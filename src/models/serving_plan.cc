#include "models/serving_plan.h"

#include <algorithm>

#include "common/strings.h"

namespace cinfer {

ServingPlan PlanServing(const ModelConfig& config, int cores) {
  cores = std::max(1, cores);
  ServingPlan plan;
  plan.instances = static_cast<int>(config.instances);
  plan.threads = static_cast<int>(config.threads);
  if (plan.instances > 0 && plan.threads > 0) {
    plan.rule = "as configured";
  } else if (plan.instances > 0) {
    plan.threads = std::max(1, cores / plan.instances);
    plan.rule = StrCat("threads = ", cores, " cores / ", plan.instances, " instances");
  } else if (plan.threads > 0) {
    plan.instances = std::max(1, cores / plan.threads);
    plan.rule = StrCat("instances = ", cores, " cores / ", plan.threads, " threads");
  } else {
    plan.instances = std::min(cores, 4);
    plan.threads = std::max(1, cores / plan.instances);
    plan.rule =
        StrCat("sized from ", cores, " cores: min(cores, 4) instances, the rest as threads");
  }
  plan.allow_spinning = plan.instances == 1;
  return plan;
}

}  // namespace cinfer
