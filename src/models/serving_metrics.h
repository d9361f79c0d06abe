// ServingCollector: scrape-time gauges of the served model versions and of
// every model row, for Metrics::AddCollector.
//
// Per served version, labelled model_id and version:
//   cinfer_model_queue_depth  jobs waiting in its scheduler's queue
//   cinfer_model_in_flight    requests holding it (queued, running or being answered)
//   cinfer_model_instances{state}            engine instances in each state (§6.3)
//   cinfer_model_instance_failures_total     engine calls failed with an engine fault
//   cinfer_model_instance_recoveries_total   instances recreated after repeated faults
//   cinfer_model_degraded                    1 while some instances are out of service
// Per model row, with value 1 (names join on model_id in PromQL:
// `... * on(model_id) group_left(model) cinfer_model_info`):
//   cinfer_model_info{model_id,model,status,engine,current_version}
//
// Each scrape reads the ServingRegistry's snapshot and lists the models
// through ModelService (one query while there are at most
// ModelService::kListAllPage models). A list that fails leaves
// cinfer_model_info out of that scrape; nothing here throws.
#pragma once

#include "metrics/metrics.h"
#include "models/model_service.h"
#include "models/serving_registry.h"

namespace cinfer {

// `serving` and `models` must outlive the returned collector (and the Metrics
// it is added to).
MetricCollector ServingCollector(const ServingRegistry* serving, ModelService* models);

}  // namespace cinfer
