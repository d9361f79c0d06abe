#include "metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>
#include <tuple>
#include <type_traits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"
#include "fmt/format.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace cinfer {

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Histogram;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr const char* kStages[] = {"queue", "preprocess", "engine", "postprocess", "total"};

std::string Str(std::string_view s) { return std::string(s); }

template <class T>
auto View(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    return std::string_view(v);
  } else {
    return v;
  }
}

// Orders tuple keys by their string views, so lookups with views allocate nothing.
struct ViewLess {
  using is_transparent = void;
  template <class... A, class... B>
  bool operator()(const std::tuple<A...>& a, const std::tuple<B...>& b) const {
    const auto views = [](const auto&... v) { return std::make_tuple(View(v)...); };
    return std::apply(views, a) < std::apply(views, b);
  }
};

}  // namespace

// Families live in the registry; the instruments of one label set are looked
// up once and kept (Family::Add builds a new instrument before it looks).
struct Metrics::Impl {
  // Seconds: 0.5 ms .. 30 s, for HTTP, stages, loads and commits alike.
  const Histogram::BucketBoundaries latency = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                               0.25,   0.5,   1,      2.5,   5,    10,    30};
  const Histogram::BucketBoundaries batches = {1, 2, 4, 8, 16, 32, 64, 128};
  prometheus::Registry registry;
  // Every family, also before its first sample (registry.Collect() leaves
  // empty families out; Render adds them back so dashboards find them).
  std::vector<MetricFamily> declared;

  template <class T>
  Family<T>& Declare(const char* name, const char* help) {
    MetricFamily f;
    f.name = name;
    f.help = help;
    if constexpr (std::is_same_v<T, Counter>) {
      f.type = MetricType::Counter;
      declared.push_back(f);
      return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
    } else {
      f.type = MetricType::Histogram;
      declared.push_back(f);
      return prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
    }
  }

  Family<Counter>& http_requests = Declare<Counter>(
      "cinfer_http_requests_total", "HTTP requests answered, by route template, method and status");
  Family<Histogram>& http_seconds =
      Declare<Histogram>("cinfer_http_request_duration_seconds",
                         "HTTP request latency, from routing to the response handed to the "
                         "connection");
  Family<Counter>& inference_requests = Declare<Counter>(
      "cinfer_inference_requests_total", "Inference requests answered, by served version");
  Family<Counter>& inference_errors = Declare<Counter>(
      "cinfer_inference_errors_total", "Inference requests that failed, by model and error code");
  Family<Histogram>& inference_seconds =
      Declare<Histogram>("cinfer_inference_duration_seconds",
                         "Successful inference time by stage: queue, preprocess, engine, "
                         "postprocess, total");
  Family<Histogram>& batch_size =
      Declare<Histogram>("cinfer_inference_batch_size", "Requests per engine call");
  Family<Histogram>& load_seconds = Declare<Histogram>(
      "cinfer_model_load_duration_seconds", "Model version loads for serving, warm-up included");
  Family<Counter>& load_failures =
      Declare<Counter>("cinfer_model_load_failures_total", "Model version loads that failed");
  Family<Counter>& token_refusals =
      Declare<Counter>("cinfer_token_refusals_total",
                       "Application requests refused by their API token's policy, by reason");
  Family<Counter>& usage_commits = Declare<Counter>(
      "cinfer_usage_commits_total", "Token usage transactions (group commits), by result");
  Family<Histogram>& usage_seconds =
      Declare<Histogram>("cinfer_usage_commit_duration_seconds", "Token usage transaction time");

  struct ModelInstruments {
    Counter* requests;
    Histogram* stages[std::size(kStages)];
    Histogram* batch;
  };
  using ModelKey = std::tuple<std::string, int64_t>;
  using HttpKey = std::tuple<std::string, std::string, int>;

  Mutex mu;
  // Transparent comparators: the per-request lookups compare string_views and
  // allocate nothing; only a new label set copies its strings.
  std::map<ModelKey, ModelInstruments, ViewLess> models ABSL_GUARDED_BY(mu);
  std::map<HttpKey, std::pair<Counter*, Histogram*>, ViewLess> http ABSL_GUARDED_BY(mu);
  std::vector<MetricCollector> collectors ABSL_GUARDED_BY(mu);

  ModelInstruments& ForModel(std::string_view id, int64_t version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto it = models.find(std::tuple<std::string_view, int64_t>(id, version));
    if (it != models.end()) return it->second;
    const prometheus::Labels labels = {{"model_id", Str(id)}, {"version", std::to_string(version)}};
    ModelInstruments m{};
    m.requests = &inference_requests.Add(labels);
    for (size_t i = 0; i < std::size(kStages); ++i) {
      prometheus::Labels staged = labels;
      staged["stage"] = kStages[i];
      m.stages[i] = &inference_seconds.Add(staged, latency);
    }
    m.batch = &batch_size.Add(labels, batches);
    return models.emplace(ModelKey(Str(id), version), m).first->second;
  }
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::HttpRequest(std::string_view route, std::string_view method, int status,
                          double seconds) {
  std::pair<Counter*, Histogram*> instruments;
  {
    MutexLock lock(&impl_->mu);
    auto it = impl_->http.find(
        std::tuple<std::string_view, std::string_view, int>(route, method, status));
    if (it == impl_->http.end()) {
      Counter* c = &impl_->http_requests.Add(
          {{"route", Str(route)}, {"method", Str(method)}, {"status", std::to_string(status)}});
      Histogram* h = &impl_->http_seconds.Add({{"route", Str(route)}, {"method", Str(method)}},
                                              impl_->latency);
      it = impl_->http.emplace(Impl::HttpKey(Str(route), Str(method), status), std::make_pair(c, h))
               .first;
    }
    instruments = it->second;
  }
  instruments.first->Increment();
  instruments.second->Observe(seconds);
}

void Metrics::InferenceDone(const Inference& r) {
  Impl::ModelInstruments m;
  {
    MutexLock lock(&impl_->mu);
    m = impl_->ForModel(r.model_id, r.version);
  }
  m.requests->Increment();
  if (!r.error_code.empty()) {
    impl_->inference_errors
        .Add({{"model_id", Str(r.model_id)},
              {"version", std::to_string(r.version)},
              {"code", Str(r.error_code)}})
        .Increment();
    return;
  }
  const double stages[] = {r.queue, r.preprocess, r.engine, r.postprocess, r.total};
  for (size_t i = 0; i < std::size(kStages); ++i) m.stages[i]->Observe(stages[i]);
  m.batch->Observe(r.batch_size);
}

void Metrics::ModelLoad(std::string_view model_id, double seconds, bool ok) {
  const prometheus::Labels labels = {{"model_id", Str(model_id)}};
  if (ok) {
    impl_->load_seconds.Add(labels, impl_->latency).Observe(seconds);
  } else {
    impl_->load_failures.Add(labels).Increment();
  }
}

void Metrics::TokenRefused(std::string_view reason) {
  impl_->token_refusals.Add({{"reason", Str(reason)}}).Increment();
}

void Metrics::UsageCommit(bool ok, double seconds) {
  impl_->usage_commits.Add({{"result", ok ? "ok" : "error"}}).Increment();
  impl_->usage_seconds.Add({}, impl_->latency).Observe(seconds);
}

void Metrics::AddCollector(MetricCollector collector) {
  MutexLock lock(&impl_->mu);
  impl_->collectors.push_back(std::move(collector));
}

namespace {

MetricFamily FamilyOf(const MetricSnapshot& s) {
  MetricFamily f;
  f.name = s.name;
  f.help = s.help;
  f.type = s.type == MetricSnapshot::Type::kCounter ? MetricType::Counter : MetricType::Gauge;
  for (const MetricSample& sample : s.samples) {
    prometheus::ClientMetric m;
    for (const auto& [name, value] : sample.labels) m.label.push_back({name, value});
    if (f.type == MetricType::Counter) {
      m.counter.value = sample.value;
    } else {
      m.gauge.value = sample.value;
    }
    f.metric.push_back(std::move(m));
  }
  return f;
}

std::string Escaped(std::string_view s, bool quote) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  return fmt::format("{}", v);
}

void WriteSample(std::ostream& out, std::string_view name,
                 const std::vector<prometheus::ClientMetric::Label>& labels, double value,
                 const char* extra_label = nullptr, const std::string& extra_value = "") {
  out << name;
  if (!labels.empty() || extra_label != nullptr) {
    out << '{';
    bool first = true;
    for (const auto& l : labels) {
      out << (first ? "" : ",") << l.name << "=\"" << Escaped(l.value, true) << '"';
      first = false;
    }
    if (extra_label != nullptr)
      out << (first ? "" : ",") << extra_label << "=\"" << extra_value << '"';
    out << '}';
  }
  out << ' ' << Number(value) << '\n';
}

// OpenMetrics 1.0 text: a counter family is named without its _total suffix,
// and the exposition ends with # EOF.
void WriteOpenMetrics(std::ostream& out, const std::vector<MetricFamily>& families) {
  for (const MetricFamily& f : families) {
    std::string name = f.name;
    const char* type = "gauge";
    if (f.type == MetricType::Counter) {
      type = "counter";
      if (name.size() > 6 && name.ends_with("_total")) name.resize(name.size() - 6);
    } else if (f.type == MetricType::Histogram) {
      type = "histogram";
    }
    out << "# TYPE " << name << ' ' << type << '\n';
    out << "# HELP " << name << ' ' << Escaped(f.help, false) << '\n';
    for (const prometheus::ClientMetric& m : f.metric) {
      if (f.type == MetricType::Counter) {
        WriteSample(out, name + "_total", m.label, m.counter.value);
      } else if (f.type == MetricType::Histogram) {
        for (const auto& b : m.histogram.bucket) {
          WriteSample(out, name + "_bucket", m.label, static_cast<double>(b.cumulative_count), "le",
                      Number(b.upper_bound));
        }
        WriteSample(out, name + "_count", m.label, static_cast<double>(m.histogram.sample_count));
        WriteSample(out, name + "_sum", m.label, m.histogram.sample_sum);
      } else {
        WriteSample(out, name, m.label, m.gauge.value);
      }
    }
  }
  out << "# EOF\n";
}

}  // namespace

std::string Metrics::Render(Format format) const {
  std::vector<MetricFamily> families = impl_->registry.Collect();
  for (const MetricFamily& d : impl_->declared) {
    const bool present = std::any_of(families.begin(), families.end(),
                                     [&](const MetricFamily& f) { return f.name == d.name; });
    if (!present) families.push_back(d);
  }
  std::vector<MetricCollector> collectors;
  {
    MutexLock lock(&impl_->mu);
    collectors = impl_->collectors;
  }
  std::vector<MetricSnapshot> snapshots;
  for (const MetricCollector& collect : collectors) collect(snapshots);
  for (const MetricSnapshot& s : snapshots) families.push_back(FamilyOf(s));
  std::ostringstream out;
  if (format == Format::kOpenMetrics) {
    WriteOpenMetrics(out, families);
  } else {
    prometheus::TextSerializer().Serialize(out, families);
  }
  return out.str();
}

std::string_view Metrics::ContentType(Format format) {
  return format == Format::kOpenMetrics
             ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
             : "text/plain; version=0.0.4; charset=utf-8";
}

Metrics::Format Metrics::FormatFor(std::string_view accept) {
  return accept.find("application/openmetrics-text") != std::string_view::npos
             ? Format::kOpenMetrics
             : Format::kPrometheus;
}

}  // namespace cinfer
