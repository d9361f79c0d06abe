#include "api/admin/log_handlers.h"

#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "api/json_util.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_format.h"

namespace cinfer::api {
namespace {

using http::Request;
using http::Response;
using Result = absl::StatusOr<Response>;

constexpr auto kDefaultStatsWindow = std::chrono::hours(24);

absl::Status BadRequest(std::string_view message) {
  return MakeError(ErrorCode::kBadRequest, message);
}

// Digits at text[pos, pos + len) as a number; nullopt when any is not a digit.
std::optional<int> Digits(std::string_view text, size_t pos, size_t len) {
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (UTC; the fraction 1 to 9 digits,
// kept to the millisecond).
std::optional<Clock::TimePoint> ParseIso8601(std::string_view s) {
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
      s.back() != 'Z') {
    return std::nullopt;
  }
  const auto year = Digits(s, 0, 4), month = Digits(s, 5, 2), day = Digits(s, 8, 2);
  const auto hour = Digits(s, 11, 2), minute = Digits(s, 14, 2), second = Digits(s, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  int millis = 0;
  if (s.size() > 20) {
    const size_t digits = s.size() - 21;  // between '.' and 'Z'
    if (s[19] != '.' || digits < 1 || digits > 9) return std::nullopt;
    const auto fraction = Digits(s, 20, digits);
    if (!fraction) return std::nullopt;
    millis = *Digits(s, 20, std::min<size_t>(digits, 3));
    for (size_t i = digits; i < 3; ++i) millis *= 10;
  }
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year(*year), std::chrono::month(*month),
                           std::chrono::day(*day)};
  if (!ymd.ok() || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  return Clock::TimePoint(sys_days(ymd)) + hours(*hour) + minutes(*minute) + seconds(*second) +
         milliseconds(millis);
}

// A time query parameter in the stored form (FormatIso8601), so that it
// compares correctly as text; nullopt when absent.
absl::StatusOr<std::optional<Clock::TimePoint>> TimeParam(const Request& req, const char* name) {
  auto value = req.QueryParam(name);
  if (!value.has_value() || value->empty()) return std::optional<Clock::TimePoint>();
  auto t = ParseIso8601(*value);
  if (!t.has_value()) {
    return BadRequest(StrCat("query parameter '", name,
                             "' must be an ISO 8601 UTC time like 2026-01-31T09:15:02.123Z"));
  }
  return t;
}

nlohmann::json NullIfEmpty(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

nlohmann::json LogJson(const InferenceLogRecord& r) {
  nlohmann::json j = {
      {"id", r.id},
      {"model_id", r.model_id},
      {"model_version", r.model_version ? nlohmann::json(*r.model_version) : nullptr},
      {"token_id", r.token_id ? nlohmann::json(*r.token_id) : nullptr},
      {"request_id", r.request_id},
      {"client_ip", r.client_ip},
      {"route", r.route},
      {"status", r.status},
      {"http_status", r.http_status},
      {"error_code", NullIfEmpty(r.error_code)},
      {"error_message", NullIfEmpty(r.error_message)},
      {"timing_ms",
       {{"queue", r.queue_ms},
        {"preprocess", r.preprocess_ms},
        {"infer", r.infer_ms},
        {"postprocess", r.postprocess_ms},
        {"total", r.total_ms}}},
      {"batch_size", r.batch_size},
      {"created_at", r.created_at}};
  if (r.request_data.has_value()) j["request_data"] = *r.request_data;
  if (r.response_data.has_value()) j["response_data"] = *r.response_data;
  return j;
}

// The paging and the from/to window every log listing takes, into `f`.
template <class Filter>
absl::StatusOr<Page> ListingParams(const Request& req, Filter& f) {
  ASSIGN_OR_RETURN(Page page, PageParams(req, 50, 200));
  ASSIGN_OR_RETURN(auto from, TimeParam(req, "from"));
  ASSIGN_OR_RETURN(auto to, TimeParam(req, "to"));
  if (from) f.from = FormatIso8601(*from);
  if (to) f.to = FormatIso8601(*to);
  f.offset = page.offset();
  f.limit = page.size;
  return page;
}

Result ListLogs(InferenceLogStore* logs, const Request& req) {
  InferenceLogFilter f;
  f.model_id = std::string(req.QueryParam("model_id").value_or(""));
  f.token_id = std::string(req.QueryParam("token_id").value_or(""));
  f.status = std::string(req.QueryParam("status").value_or(""));
  if (!f.status.empty() && f.status != "ok" && f.status != "error") {
    return BadRequest("query parameter 'status' must be 'ok' or 'error'");
  }
  ASSIGN_OR_RETURN(Page page, ListingParams(req, f));
  int64_t total = 0;
  ASSIGN_OR_RETURN(auto rows, logs->QueryInferenceLogs(f, &total));
  nlohmann::json items = nlohmann::json::array();
  for (const auto& r : rows) items.push_back(LogJson(r));
  return PagedResponse(std::move(items), total, page);
}

Result ModelStats(InferenceLogStore* logs, ModelStore* models, const Clock* clock, Request& req) {
  const std::string& id = req.path_params["id"];
  ASSIGN_OR_RETURN(auto from, TimeParam(req, "from"));
  ASSIGN_OR_RETURN(auto to, TimeParam(req, "to"));
  const Clock::TimePoint end = to.value_or(clock->Now());
  const Clock::TimePoint begin = from.value_or(end - kDefaultStatsWindow);
  if (begin >= end) return BadRequest("query parameter 'from' must be before 'to'");
  ASSIGN_OR_RETURN(auto model, models->FindModel(id));
  if (!model.has_value()) {
    return MakeError(ErrorCode::kModelNotFound, StrCat("no model with id '", id, "'"));
  }
  const std::string from_text = FormatIso8601(begin), to_text = FormatIso8601(end);
  ASSIGN_OR_RETURN(ModelStatsRecord s, logs->InferenceStats(id, from_text, to_text));
  nlohmann::json by_code = nlohmann::json::object();
  for (const auto& [code, count] : s.by_error_code) by_code[code] = count;
  const double error_rate =
      s.requests > 0 ? static_cast<double>(s.errors) / static_cast<double>(s.requests) : 0.0;
  return JsonResponse(200, {{"model_id", id},
                            {"from", from_text},
                            {"to", to_text},
                            {"requests", s.requests},
                            {"errors", s.errors},
                            {"error_rate", error_rate},
                            {"latency_ms",
                             {{"p50", s.p50_ms},
                              {"p90", s.p90_ms},
                              {"p99", s.p99_ms},
                              {"mean", s.mean_ms},
                              {"max", s.max_ms}}},
                            {"mean_batch_size", s.mean_batch_size},
                            {"errors_by_code", by_code}});
}

// An integer query parameter in [min, max]; `fallback` when absent.
absl::StatusOr<int64_t> IntParam(const Request& req, const char* name, int64_t fallback,
                                 int64_t min, int64_t max) {
  auto value = req.QueryParam(name);
  if (!value.has_value() || value->empty()) return fallback;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), v);
  if (ec != std::errc() || end != value->data() + value->size() || v < min || v > max) {
    return BadRequest(
        StrCat("query parameter '", name, "' must be an integer between ", min, " and ", max));
  }
  return v;
}

nlohmann::json OptionalNumber(const std::optional<double>& v) {
  return v.has_value() ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json SummaryJson(const LatencySummary& s) {
  return {{"requests", s.requests},
          {"errors", s.errors},
          {"p50_ms", OptionalNumber(s.p50_ms)},
          {"p99_ms", OptionalNumber(s.p99_ms)}};
}

constexpr int64_t kMaxOverviewBuckets = 1440;

// The dashboard's overview: buckets aligned to multiples of step_s, the last
// one holding now, so a refresh moves the chart by whole steps.
Result Overview(InferenceLogStore* logs, const Clock* clock, const Request& req) {
  ASSIGN_OR_RETURN(int64_t window, IntParam(req, "window_s", 3600, 60, 7 * 86400));
  ASSIGN_OR_RETURN(int64_t step, IntParam(req, "step_s", 60, 10, 86400));
  const int64_t buckets = (window + step - 1) / step;
  if (buckets > kMaxOverviewBuckets || step > window) {
    return BadRequest(StrCat("window_s / step_s must be between 1 and ", kMaxOverviewBuckets));
  }
  using namespace std::chrono;
  const int64_t now = duration_cast<seconds>(clock->Now().time_since_epoch()).count();
  const int64_t to_unix = (now / step + 1) * step;
  StatsOverviewQuery q;
  q.from_unix = to_unix - buckets * step;
  q.step_s = step;
  q.buckets = buckets;
  q.from = FormatIso8601(Clock::TimePoint(seconds(q.from_unix)));
  q.to = FormatIso8601(Clock::TimePoint(seconds(to_unix)));
  q.month = FormatIso8601(clock->Now()).substr(0, 7);
  ASSIGN_OR_RETURN(StatsOverviewRecord r, logs->StatsOverview(q));
  nlohmann::json series = nlohmann::json::array();
  for (int64_t i = 0; i < buckets; ++i) {
    nlohmann::json b = SummaryJson(r.series[static_cast<size_t>(i)]);
    b["t"] = FormatIso8601(Clock::TimePoint(seconds(q.from_unix + i * step)));
    series.push_back(std::move(b));
  }
  nlohmann::json models = nlohmann::json::array();
  for (const auto& m : r.models) {
    nlohmann::json j = SummaryJson(m.stats);
    j["model_id"] = m.model_id;
    j["name"] = m.name;
    j["status"] = m.status;
    models.push_back(std::move(j));
  }
  nlohmann::json tokens = nlohmann::json::array();
  for (const auto& t : r.top_tokens) {
    tokens.push_back(
        {{"token_id", t.token_id},
         {"name", t.name},
         {"used_count", t.used_count},
         {"monthly_limit", t.monthly_limit.has_value() ? nlohmann::json(*t.monthly_limit)
                                                       : nlohmann::json(nullptr)}});
  }
  return JsonResponse(200, {{"from", q.from},
                            {"to", q.to},
                            {"window_s", buckets * step},
                            {"step_s", step},
                            {"month", q.month},
                            {"totals", SummaryJson(r.totals)},
                            {"series", std::move(series)},
                            {"models", std::move(models)},
                            {"models_by_status", r.models_by_status},
                            {"top_tokens", std::move(tokens)},
                            {"rows_scanned", r.rows_scanned}});
}

Result ListAudit(AuditStore* audit, const Request& req) {
  AuditFilter f;
  f.actor = std::string(req.QueryParam("actor").value_or(""));
  f.action = std::string(req.QueryParam("action").value_or(""));
  ASSIGN_OR_RETURN(Page page, ListingParams(req, f));
  int64_t total = 0;
  ASSIGN_OR_RETURN(auto rows, audit->QueryAudit(f, &total));
  nlohmann::json items = nlohmann::json::array();
  for (const auto& e : rows) {
    auto detail = nlohmann::json::parse(e.detail, nullptr, false);
    items.push_back({{"created_at", e.created_at},
                     {"actor", e.actor},
                     {"action", e.action},
                     {"object_type", e.object_type},
                     {"object_id", e.object_id},
                     {"client_ip", e.client_ip},
                     {"detail", detail.is_object() ? detail : nlohmann::json::object()}});
  }
  return PagedResponse(std::move(items), total, page);
}

}  // namespace

void AddLogRoutes(const LogRouteDeps& d, std::vector<http::Route>& routes) {
  using http::AuthScope;
  InferenceLogStore* logs = d.logs;
  ModelStore* models = d.models;
  AuditStore* audit = d.audit;
  const Clock* clock = d.clock;
  routes.push_back({"GET", "/api/v1/internal/stats/overview", AuthScope::kAdmin,
                    [logs, clock](Request& req) { return Overview(logs, clock, req); }});
  routes.push_back({"GET", "/api/v1/internal/audit", AuthScope::kAdmin,
                    [audit](Request& req) { return ListAudit(audit, req); }});
  routes.push_back({"GET", "/api/v1/internal/logs", AuthScope::kAdmin,
                    [logs](Request& req) { return ListLogs(logs, req); }});
  routes.push_back(
      {"GET", "/api/v1/internal/models/{id}/stats", AuthScope::kAdmin,
       [logs, models, clock](Request& req) { return ModelStats(logs, models, clock, req); }});
}

}  // namespace cinfer::api
