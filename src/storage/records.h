// Plain records exchanged with the storage layer. Times are ISO-8601 UTC text.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cinfer {

// A console/admin-API user. `role` is "admin", "operator" or "viewer"
// (auth/roles.h); is_admin mirrors role == "admin" for the schema's old column.
struct UserRecord {
  std::string id;
  std::string username;
  std::string password_hash;
  bool is_admin = false;
  std::string role = "viewer";
  // Set by an administrator's password reset: the next session may only change it.
  bool must_change_password = false;
  int64_t failed_logins = 0;  // since the last successful login
  std::optional<std::string> last_failed_login;
  std::string updated_at;
  // Incremented whenever the password changes; sessions carry the version they
  // were issued under, so older sessions stop working.
  int64_t token_version = 0;
  std::string created_at;
  std::optional<std::string> last_login;
  std::string status = "active";
};

struct ModelVersionRecord {
  std::string id;
  std::string model_id;
  int64_t version = 1;
  std::string file_path;          // server-generated, under the models directory
  std::string original_filename;  // the client's name: metadata only, never a path
  int64_t size_bytes = 0;
  std::string sha256;
  std::string config;     // JSON text
  std::string io_schema;  // JSON text
  std::string created_by;
  std::string created_at;
};

struct ModelRecord {
  std::string id;
  std::string name;
  std::string description;
  std::string engine;
  std::string config;     // JSON text (the current version's)
  std::string io_schema;  // JSON text (the current version's)
  std::string status = "draft";
  std::optional<std::string> status_reason;
  int64_t current_version = 1;
  std::optional<int64_t> served_version;
  std::string created_by;
  std::string created_at;
  std::string updated_at;
};

struct ModelFilter {
  std::string status;  // exact; empty = any
  std::string engine;  // exact; empty = any
  std::string name;    // substring; empty = any
  int64_t offset = 0;
  int64_t limit = 20;
};

struct AuditEntry {
  std::string created_at;
  std::string actor;        // username or "system"
  std::string action;       // e.g. "auth.login", "system.setup"
  std::string object_type;  // e.g. "user"
  std::string object_id;
  std::string client_ip;
  std::string detail;  // JSON text, never a credential
};

// One inference request as logged: who asked for what, how it ended and where
// the time went. Durations are milliseconds; total_ms is stored as latency_ms.
struct InferenceLogRecord {
  std::string id;
  std::string model_id;
  std::optional<int64_t> model_version;
  std::optional<std::string> token_id;  // stored as NULL when the token no longer exists
  std::string request_id;
  std::string client_ip;
  std::string route;   // "infer", "infer/batch", "infer/async", ...
  std::string status;  // "ok" | "error"
  int http_status = 200;
  std::string error_code;  // e.g. "MODEL_NOT_READY"; empty when ok
  std::string error_message;
  double queue_ms = 0;
  double preprocess_ms = 0;
  double infer_ms = 0;
  double postprocess_ms = 0;
  double total_ms = 0;
  int64_t batch_size = 0;  // the engine batch the request ran in; 0 when unknown
  std::optional<std::string> request_data;
  std::optional<std::string> response_data;
  std::string created_at;  // ISO 8601 UTC, FormatIso8601
};

// Which inference logs to list. Times are ISO 8601 UTC in FormatIso8601's form
// (they compare as text): `from` inclusive, `to` exclusive, empty = open.
struct InferenceLogFilter {
  std::string model_id;  // exact; empty = any
  std::string token_id;  // exact; empty = any
  std::string status;    // "ok" | "error"; empty = any
  std::string from;
  std::string to;
  int64_t offset = 0;
  int64_t limit = 50;
};

// Aggregates over one model's logs in a time window. Latency percentiles are
// nearest-rank over total_ms; mean_batch_size averages the rows that record a
// batch size.
struct ModelStatsRecord {
  int64_t requests = 0;
  int64_t errors = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double mean_ms = 0;
  double max_ms = 0;
  double mean_batch_size = 0;
  std::map<std::string, int64_t> by_error_code;  // error rows per error_code
};

// Filters for the audit log (newest first). Times as in InferenceLogFilter.
struct AuditFilter {
  std::string actor;   // exact; empty = any
  std::string action;  // prefix ("model." matches every model action); empty = any
  std::string from;
  std::string to;
  int64_t offset = 0;
  int64_t limit = 50;
};

// The dashboard's aggregate over the inference log in [from, to): totals, one
// bucket per step, per-model rows, models by status and the month's top tokens.
// Percentiles are nearest-rank over total_ms; absent when nothing was timed.
struct LatencySummary {
  int64_t requests = 0;
  int64_t errors = 0;
  std::optional<double> p50_ms;
  std::optional<double> p99_ms;
};
struct OverviewModelRow {
  std::string model_id;
  std::string name;
  std::string status;
  LatencySummary stats;
};
struct TopTokenRow {
  std::string token_id;
  std::string name;
  int64_t used_count = 0;
  std::optional<int64_t> monthly_limit;
};
struct StatsOverviewQuery {
  std::string from;  // ISO 8601 UTC, as stored
  std::string to;
  int64_t from_unix = 0;  // the same instant as `from`, in seconds
  int64_t step_s = 60;
  int64_t buckets = 60;
  std::string month;  // "YYYY-MM": the usage month of the top tokens
  int top_tokens = 5;
};
struct StatsOverviewRecord {
  LatencySummary totals;
  std::vector<LatencySummary> series;    // `buckets` entries
  std::vector<OverviewModelRow> models;  // every model with traffic, most requests first
  std::map<std::string, int64_t> models_by_status;
  std::vector<TopTokenRow> top_tokens;
  int64_t rows_scanned = 0;
};

// An API token. The value itself is never stored: only its SHA-256 (hex) and
// the last characters, so an administrator can tell tokens apart.
struct TokenRecord {
  std::string id;
  std::string name;
  std::string remark;
  std::string token_hash;    // lowercase hex SHA-256 of the whole value
  std::string token_suffix;  // the value's last 4 characters
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> expires_at;   // nullopt: never expires
  bool is_active = true;                   // false: paused by an administrator
  std::string allowed_models = "[\"*\"]";  // JSON list text: ["*"] or model ids
  std::string ip_whitelist = "[]";         // JSON list text of addresses/CIDRs; [] = any
  std::optional<int64_t> rate_limit;       // requests per minute; nullopt: unlimited
  std::optional<int64_t> monthly_limit;    // units per UTC calendar month; nullopt: unlimited
  int64_t used_count = 0;                  // units used in usage_month
  std::string usage_month;                 // "YYYY-MM" that used_count counts; "" = never used
  std::optional<std::string> last_used_at;
  std::optional<std::string> created_by;  // user id
};

// Usage to add to one token, for one model on one UTC day.
struct TokenUsageIncrement {
  std::string token_id;
  std::string model_id;
  std::string day;    // "YYYY-MM-DD" (UTC)
  std::string month;  // "YYYY-MM" (UTC), the month of `day`
  int64_t count = 0;
  std::string at;  // ISO 8601 UTC: becomes last_used_at
};

// One row of the per-day usage counters.
struct TokenUsageRow {
  std::string day;  // "YYYY-MM-DD"
  std::string model_id;
  int64_t count = 0;
};

}  // namespace cinfer
