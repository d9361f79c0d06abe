// The scrape-time sources of /metrics that the composition root owns: process,
// host and data disk, GPUs (NVML, when present), the inference-log writer, and
// the served models (queue depth, in-flight, instances, model info).
#pragma once

#include <string>

#include "logs/inference_log_writer.h"
#include "metrics/metrics.h"
#include "models/model_service.h"
#include "models/serving_registry.h"

namespace cinfer {

// Everything passed in must outlive scrapes of `metrics`.
void AddServerCollectors(Metrics* metrics, const std::string& data_dir,
                         const InferenceLogWriter* log_writer, const ServingRegistry* serving,
                         ModelService* models);

}  // namespace cinfer
