// Metrics: the server's Prometheus instruments (prometheus-cpp's core registry)
// and the exposition of everything measured, in the Prometheus text format or
// OpenMetrics. Built once by src/server and passed down as a pointer; a null
// Metrics* means "not measured" (unit tests). Thread-safe.
//
// Label sets stay bounded: route templates (not paths), HTTP methods and
// statuses, model id + version (names join from cinfer_model_info), error
// codes of common/error_codes.h, token refusal reasons. No token id, client
// address or request id.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cinfer {

// A gauge or counter read at scrape time (queue depths, process and host figures).
struct MetricSample {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};
struct MetricSnapshot {
  enum class Type { kGauge, kCounter };
  std::string name;  // full name; a counter's ends in _total
  std::string help;
  Type type = Type::kGauge;
  std::vector<MetricSample> samples;
};
// Appends what it reads now. Runs on the scraping thread; must not block long.
using MetricCollector = std::function<void(std::vector<MetricSnapshot>& out)>;

class Metrics {
 public:
  enum class Format { kPrometheus, kOpenMetrics };

  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One answered HTTP request. `route` is the matched route's pattern, or
  // "unmatched"; `status` the HTTP status sent.
  void HttpRequest(std::string_view route, std::string_view method, int status, double seconds);

  // One inference request, answered. `error_code` is empty on success; the
  // stage durations (seconds) are recorded for successes only.
  struct Inference {
    std::string_view model_id{};
    int64_t version = 0;
    std::string_view error_code{};
    double queue = 0;
    double preprocess = 0;
    double engine = 0;
    double postprocess = 0;
    double total = 0;
    int batch_size = 1;
  };
  void InferenceDone(const Inference& inference);

  // A version loaded (and warmed up) for serving, or a load that failed.
  void ModelLoad(std::string_view model_id, double seconds, bool ok);

  // An application request refused by its token's policy. `reason`: rate,
  // quota, ip, paused, expired, model, invalid.
  void TokenRefused(std::string_view reason);

  // One usage transaction (group commit) and how long it took.
  void UsageCommit(bool ok, double seconds);

  // Adds a source of scrape-time gauges and counters.
  void AddCollector(MetricCollector collector);

  // Everything, in the format asked for.
  std::string Render(Format format) const;
  static std::string_view ContentType(Format format);
  // The format an Accept header asks for (OpenMetrics only when it names it).
  static Format FormatFor(std::string_view accept);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cinfer
