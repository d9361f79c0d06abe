#include "models/serving_metrics.h"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/strings.h"  // fmt's formatter for absl::string_view
#include "spdlog/spdlog.h"

namespace cinfer {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

MetricSnapshot Gauge(std::string name, std::string help) {
  return MetricSnapshot{std::move(name), std::move(help), MetricSnapshot::Type::kGauge, {}};
}

MetricSnapshot Counter(std::string name, std::string help) {
  return MetricSnapshot{std::move(name), std::move(help), MetricSnapshot::Type::kCounter, {}};
}

// The engine instances of served versions (design §6.3): how many are in
// each state, their faults and recoveries, and whether the version is degraded.
class InstanceMetrics {
 public:
  void Add(const Labels& labels, const ModelScheduler& scheduler) {
    std::map<InstanceState, int> by_state;
    int64_t failures = 0, recoveries = 0;
    const std::vector<InstanceStatus> instances = scheduler.Instances();  // one snapshot
    for (const InstanceStatus& i : instances) {
      ++by_state[i.state];
      failures += i.failures;
      recoveries += i.recoveries;
    }
    for (InstanceState state : kAllInstanceStates) {
      Labels with_state = labels;
      with_state.emplace_back("state", InstanceStateName(state));
      states_.samples.push_back({std::move(with_state), static_cast<double>(by_state[state])});
    }
    failures_.samples.push_back({labels, static_cast<double>(failures)});
    recoveries_.samples.push_back({labels, static_cast<double>(recoveries)});
    degraded_.samples.push_back({labels, ServingStateOf(instances) == "ready" ? 0.0 : 1.0});
  }
  void MoveTo(std::vector<MetricSnapshot>& out) {
    out.push_back(std::move(states_));
    out.push_back(std::move(failures_));
    out.push_back(std::move(recoveries_));
    out.push_back(std::move(degraded_));
  }

 private:
  MetricSnapshot states_ = Gauge("cinfer_model_instances",
                                 "Engine instances of a served model version, by state "
                                 "(initialising, ready, busy, error, recovering, stopped)");
  MetricSnapshot failures_ = Counter("cinfer_model_instance_failures_total",
                                     "Engine calls of a served version that failed with an "
                                     "engine fault (not a bad request)");
  MetricSnapshot recoveries_ = Counter("cinfer_model_instance_recoveries_total",
                                       "Engine instances of a served version recreated after "
                                       "repeated faults");
  MetricSnapshot degraded_ = Gauge("cinfer_model_degraded",
                                   "1 while some engine instances of a served version are out "
                                   "of service (error or recovering)");
};

// Queue depth, in-flight requests and instances of every served version.
void CollectServed(const ServingRegistry& serving, std::vector<MetricSnapshot>& out) {
  MetricSnapshot queue =
      Gauge("cinfer_model_queue_depth", "Jobs waiting in the queue of a served model version");
  MetricSnapshot in_flight = Gauge("cinfer_model_in_flight",
                                   "Requests holding a served model version (queued, running or "
                                   "being answered)");
  InstanceMetrics instances;
  for (const std::shared_ptr<const ServedModel>& served : serving.All()) {
    const Labels labels = {{"model_id", served->model_id},
                           {"version", std::to_string(served->version)}};
    const size_t queued = served->scheduler != nullptr ? served->scheduler->queued() : 0;
    queue.samples.push_back({labels, static_cast<double>(queued)});
    in_flight.samples.push_back({labels, static_cast<double>(served->in_flight.load())});
    if (served->scheduler != nullptr) instances.Add(labels, *served->scheduler);
  }
  out.push_back(std::move(queue));
  out.push_back(std::move(in_flight));
  instances.MoveTo(out);
}

// Every model row, page by page. Paging by offset while rows are added or
// deleted can meet a row twice (it is reported once) or miss one until the
// next scrape.
void CollectInfo(ModelService& models, std::vector<MetricSnapshot>& out) {
  MetricSnapshot info =
      Gauge("cinfer_model_info", "1 for every model: its name, status, engine and current version");
  std::set<std::string, std::less<>> seen;
  ModelFilter filter;
  filter.limit = ModelService::kListAllPage;
  while (true) {
    auto page = models.List(filter);
    if (!page.ok()) {
      spdlog::warn("metrics: cannot list models for cinfer_model_info: {}",
                   page.status().message());
      return;
    }
    const auto& [rows, total] = *page;
    for (const ModelRecord& m : rows) {
      if (!seen.insert(m.id).second) continue;
      info.samples.push_back({{{"model_id", m.id},
                               {"model", m.name},
                               {"status", m.status},
                               {"engine", m.engine},
                               {"current_version", std::to_string(m.current_version)}},
                              1});
    }
    filter.offset += static_cast<int64_t>(rows.size());
    if (rows.empty() || filter.offset >= total) break;
  }
  out.push_back(std::move(info));
}

}  // namespace

MetricCollector ServingCollector(const ServingRegistry* serving, ModelService* models) {
  return [serving, models](std::vector<MetricSnapshot>& out) {
    CollectServed(*serving, out);
    CollectInfo(*models, out);
  };
}

}  // namespace cinfer
