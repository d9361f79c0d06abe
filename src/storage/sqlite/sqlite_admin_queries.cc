// SqliteDatabase's read-only admin queries: the dashboard overview and the
// audit log. Both run on the reader connection (reader_), never under the
// writer's mutex, so a large window or a deep page cannot delay the usage
// commits that every successful inference waits for.
#include <sqlite3.h>

#include <algorithm>
#include <unordered_map>

#include "common/status_macros.h"
#include "common/strings.h"
#include "storage/sqlite/sqlite_database.h"
#include "storage/sqlite/statement.h"

namespace cinfer {
namespace {

using sqlite::Statement;

// Seconds since the epoch of a stored "YYYY-MM-DDTHH:MM:SS…" UTC time; -1 when
// the text is not in that form. Cheaper than a general RFC 3339 parser, which
// matters for a million rows.
int64_t StoredTimeToUnix(std::string_view t) {
  if (t.size() < 19) return -1;
  auto num = [&](size_t pos, size_t len) {
    int64_t v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (t[i] < '0' || t[i] > '9') return int64_t{-1};
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  int64_t y = num(0, 4), m = num(5, 2), d = num(8, 2);
  int64_t hh = num(11, 2), mm = num(14, 2), ss = num(17, 2);
  if (y < 0 || m < 1 || m > 12 || d < 1 || hh < 0 || mm < 0 || ss < 0) return -1;
  // Days from civil (proleptic Gregorian), after H. Hinnant's public algorithm.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = era * 146097 + doe - 719468;
  return days * 86400 + hh * 3600 + mm * 60 + ss;
}

// Collects one group's counts and latencies; Finish() computes the percentiles.
struct Accumulator {
  int64_t requests = 0;
  int64_t errors = 0;
  std::vector<double> latencies;

  void Add(bool error, std::optional<double> latency) {
    ++requests;
    errors += error ? 1 : 0;
    if (latency) latencies.push_back(*latency);
  }
  LatencySummary Finish() {
    LatencySummary s{requests, errors, std::nullopt, std::nullopt};
    if (latencies.empty()) return s;
    auto rank = [&](int64_t p) {
      const int64_t n = static_cast<int64_t>(latencies.size());
      const int64_t k = std::clamp<int64_t>((p * n + 99) / 100 - 1, 0, n - 1);
      std::nth_element(latencies.begin(), latencies.begin() + k, latencies.end());
      return latencies[static_cast<size_t>(k)];
    };
    s.p50_ms = rank(50);
    s.p99_ms = rank(99);
    latencies = {};
    return s;
  }
};

// The models' counts by status, and each model with rows in the window with
// its statistics, busiest first (the caller holds the reader's lock).
absl::Status AddModelStats(sqlite3* reader, std::unordered_map<std::string, Accumulator>& per_model,
                           StatsOverviewRecord& out) {
  ASSIGN_OR_RETURN(Statement models,
                   Statement::Prepare(reader, "SELECT id, name, status FROM models"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, models.Step());
    if (!row) break;
    const std::string status = models.ColumnText(2);
    ++out.models_by_status[status];
    auto it = per_model.find(models.ColumnText(0));
    if (it == per_model.end()) continue;
    out.models.push_back({it->first, models.ColumnText(1), status, it->second.Finish()});
  }
  std::sort(out.models.begin(), out.models.end(), [](const auto& a, const auto& b) {
    return a.stats.requests != b.stats.requests ? a.stats.requests > b.stats.requests
                                                : a.name < b.name;
  });
  return absl::OkStatus();
}

// The month's busiest tokens (the caller holds the reader's lock).
absl::Status AddTopTokens(sqlite3* reader, const StatsOverviewQuery& q, StatsOverviewRecord& out) {
  ASSIGN_OR_RETURN(Statement tokens,
                   Statement::Prepare(reader,
                                      "SELECT id, name, used_count, monthly_limit FROM tokens "
                                      "WHERE usage_month = ? AND used_count > 0 "
                                      "ORDER BY used_count DESC, name LIMIT ?"));
  tokens.Bind(1, q.month).Bind(2, static_cast<int64_t>(q.top_tokens));
  while (true) {
    ASSIGN_OR_RETURN(bool row, tokens.Step());
    if (!row) break;
    TopTokenRow t{tokens.ColumnText(0), tokens.ColumnText(1), tokens.ColumnInt(2), std::nullopt};
    if (auto limit = tokens.ColumnOptionalDouble(3)) t.monthly_limit = static_cast<int64_t>(*limit);
    out.top_tokens.push_back(std::move(t));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<StatsOverviewRecord> SqliteDatabase::StatsOverview(const StatsOverviewQuery& q) {
  if (q.step_s <= 0 || q.buckets <= 0) return absl::InvalidArgumentError("bad overview step");
  StatsOverviewRecord out;
  Accumulator total;
  std::vector<Accumulator> buckets(static_cast<size_t>(q.buckets));
  std::unordered_map<std::string, Accumulator> per_model;
  MutexLock lock(&reader_mu_);
  ASSIGN_OR_RETURN(Statement rows,
                   Statement::Prepare(reader_,
                                      "SELECT created_at, model_id, status, latency_ms "
                                      "FROM inference_logs INDEXED BY idx_inference_logs_overview "
                                      "WHERE created_at >= ? AND created_at < ?"));
  rows.Bind(1, q.from).Bind(2, q.to);
  std::string last_model;
  Accumulator* model_acc = nullptr;
  while (true) {
    ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    ++out.rows_scanned;
    const bool error = rows.ColumnView(2) == "error";
    const std::optional<double> latency = rows.ColumnOptionalDouble(3);
    total.Add(error, latency);
    const int64_t b = (StoredTimeToUnix(rows.ColumnView(0)) - q.from_unix) / q.step_s;
    if (b >= 0 && b < q.buckets) buckets[static_cast<size_t>(b)].Add(error, latency);
    const std::string_view model = rows.ColumnView(1);
    if (model_acc == nullptr || model != last_model) {
      last_model = std::string(model);
      model_acc = &per_model[last_model];
    }
    model_acc->Add(error, latency);
  }
  out.totals = total.Finish();
  for (auto& b : buckets) out.series.push_back(b.Finish());

  RETURN_IF_ERROR(AddModelStats(reader_, per_model, out));
  RETURN_IF_ERROR(AddTopTokens(reader_, q, out));
  return out;
}

absl::StatusOr<std::vector<AuditEntry>> SqliteDatabase::QueryAudit(const AuditFilter& f,
                                                                   int64_t* total) {
  std::vector<std::string> clauses;
  std::vector<std::string> args;
  auto add = [&](const std::string& value, const char* clause, std::string bound) {
    if (value.empty()) return;
    clauses.emplace_back(clause);
    args.push_back(std::move(bound));
  };
  add(f.actor, "actor = ?", f.actor);
  // A prefix match that no LIKE wildcard the user typed can widen.
  add(f.action, "instr(action, ?) = 1", f.action);
  add(f.from, "created_at >= ?", f.from);
  add(f.to, "created_at < ?", f.to);
  const std::string where = clauses.empty() ? "" : StrCat(" WHERE ", Join(clauses, " AND "));
  MutexLock lock(&reader_mu_);
  auto prepare = [&](std::string sql)
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(reader_mu_) -> absl::StatusOr<Statement> {
    ASSIGN_OR_RETURN(Statement s, Statement::Prepare(reader_, sql));
    for (size_t i = 0; i < args.size(); ++i) s.Bind(static_cast<int>(i) + 1, args[i]);
    return s;
  };
  ASSIGN_OR_RETURN(Statement count, prepare(StrCat("SELECT COUNT(*) FROM audit_log", where)));
  ASSIGN_OR_RETURN(bool has_count, count.Step());
  *total = has_count ? count.ColumnInt(0) : 0;
  ASSIGN_OR_RETURN(Statement q, prepare(StrCat("SELECT created_at, actor, action, object_type, "
                                               "object_id, client_ip, detail FROM audit_log",
                                               where, " ORDER BY id DESC LIMIT ? OFFSET ?")));
  q.Bind(static_cast<int>(args.size()) + 1, f.limit)
      .Bind(static_cast<int>(args.size()) + 2, f.offset);
  std::vector<AuditEntry> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.ColumnText(0), q.ColumnText(1), q.ColumnText(2), q.ColumnText(3),
                   q.ColumnText(4), q.ColumnText(5), q.ColumnText(6)});
  }
  return out;
}

}  // namespace cinfer
