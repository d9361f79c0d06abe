#include "server/server_metrics.h"

#include <vector>

#include "metrics/system_collectors.h"
#include "models/serving_metrics.h"
#include "spdlog/spdlog.h"

namespace cinfer {
namespace {

MetricCollector LogWriterCollector(const InferenceLogWriter* w) {
  return [w](std::vector<MetricSnapshot>& out) {
    using Type = MetricSnapshot::Type;
    out.push_back({"cinfer_inference_log_queued_rows",
                   "Inference-log rows waiting for the background writer",
                   Type::kGauge,
                   {{{}, static_cast<double>(w->queued())}}});
    out.push_back({"cinfer_inference_log_written_rows_total",
                   "Inference-log rows handed to the database in successful writes",
                   Type::kCounter,
                   {{{}, static_cast<double>(w->written())}}});
    out.push_back({"cinfer_inference_log_dropped_rows_total",
                   "Inference-log rows lost to a full queue, a failed write or shutdown",
                   Type::kCounter,
                   {{{}, static_cast<double>(w->dropped())}}});
  };
}

}  // namespace

void AddServerCollectors(Metrics* metrics, const std::string& data_dir,
                         const InferenceLogWriter* log_writer, const ServingRegistry* serving,
                         ModelService* models) {
  metrics->AddCollector(ProcessCollector());
  metrics->AddCollector(HostCollector(data_dir));
  if (MetricCollector gpus = GpuCollector()) {
    spdlog::info("NVML found: GPU utilisation and memory are in /metrics");
    metrics->AddCollector(std::move(gpus));
  }
  metrics->AddCollector(LogWriterCollector(log_writer));
  metrics->AddCollector(ServingCollector(serving, models));
}

}  // namespace cinfer
