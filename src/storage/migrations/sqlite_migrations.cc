#include "storage/migrations/sqlite_migrations.h"

namespace cinfer {
namespace {

// Schema of the design document §5, with: model_versions split out of models,
// tokens stored as a SHA-256 hash plus a visible suffix (never the value),
// audit_log, and revoked admin sessions.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT UNIQUE NOT NULL,
  password_hash TEXT NOT NULL,
  is_admin INTEGER NOT NULL DEFAULT 0,
  token_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  last_login TEXT,
  status TEXT NOT NULL DEFAULT 'active'
);
CREATE TABLE models (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  engine_type TEXT NOT NULL,
  config TEXT NOT NULL DEFAULT '{}',
  io_schema TEXT,
  status TEXT NOT NULL DEFAULT 'draft',
  status_reason TEXT,
  current_version_id TEXT,
  created_by TEXT REFERENCES users(id),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE model_versions (
  id TEXT PRIMARY KEY,
  model_id TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  file_path TEXT NOT NULL,
  original_filename TEXT,
  size_bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  config TEXT,
  created_by TEXT REFERENCES users(id),
  created_at TEXT NOT NULL,
  UNIQUE (model_id, version)
);
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  token_hash TEXT UNIQUE NOT NULL,
  token_suffix TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  is_active INTEGER NOT NULL DEFAULT 1,
  allowed_models TEXT NOT NULL DEFAULT '["*"]',
  ip_whitelist TEXT NOT NULL DEFAULT '[]',
  rate_limit INTEGER,
  monthly_limit INTEGER,
  used_count INTEGER NOT NULL DEFAULT 0,
  remark TEXT NOT NULL DEFAULT '',
  created_by TEXT REFERENCES users(id)
);
CREATE TABLE inference_logs (
  id TEXT PRIMARY KEY,
  model_id TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  model_version INTEGER,
  token_id TEXT REFERENCES tokens(id) ON DELETE SET NULL,
  request_id TEXT,
  client_ip TEXT,
  request_data TEXT,
  response_data TEXT,
  status TEXT NOT NULL,
  error_message TEXT,
  latency_ms REAL,
  created_at TEXT NOT NULL
);
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object_type TEXT NOT NULL DEFAULT '',
  object_id TEXT NOT NULL DEFAULT '',
  client_ip TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE revoked_sessions (
  jti TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX idx_models_status ON models(status);
CREATE INDEX idx_models_engine_type ON models(engine_type);
CREATE INDEX idx_models_created_at ON models(created_at);
CREATE INDEX idx_model_versions_model ON model_versions(model_id);
CREATE INDEX idx_tokens_expires_at ON tokens(expires_at);
CREATE INDEX idx_inference_logs_model_id ON inference_logs(model_id);
CREATE INDEX idx_inference_logs_token_id ON inference_logs(token_id);
CREATE INDEX idx_inference_logs_created_at ON inference_logs(created_at);
CREATE INDEX idx_inference_logs_status ON inference_logs(status);
CREATE INDEX idx_audit_log_created_at ON audit_log(created_at);
CREATE INDEX idx_revoked_sessions_expires ON revoked_sessions(expires_at);
)sql";

// Model versions are numbered per model; names are unique.
constexpr std::string_view kV2 = R"sql(
ALTER TABLE models ADD COLUMN current_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE models ADD COLUMN served_version INTEGER;
ALTER TABLE model_versions ADD COLUMN io_schema TEXT;
CREATE UNIQUE INDEX idx_models_name ON models(name);
)sql";

// Inference logs record the HTTP outcome, the time per pipeline stage, the
// batch a request ran in and the route; latency_ms stays the total. Queries
// filter by model and time, so (model_id, created_at) replaces the model index.
constexpr std::string_view kV3 = R"sql(
ALTER TABLE inference_logs ADD COLUMN http_status INTEGER;
ALTER TABLE inference_logs ADD COLUMN error_code TEXT;
ALTER TABLE inference_logs ADD COLUMN queue_ms REAL;
ALTER TABLE inference_logs ADD COLUMN preprocess_ms REAL;
ALTER TABLE inference_logs ADD COLUMN infer_ms REAL;
ALTER TABLE inference_logs ADD COLUMN postprocess_ms REAL;
ALTER TABLE inference_logs ADD COLUMN batch_size INTEGER;
ALTER TABLE inference_logs ADD COLUMN route TEXT;
DROP INDEX IF EXISTS idx_inference_logs_model_id;
CREATE INDEX IF NOT EXISTS idx_inference_logs_model_created ON inference_logs(model_id, created_at);
CREATE INDEX IF NOT EXISTS idx_inference_logs_created_at ON inference_logs(created_at);
CREATE INDEX IF NOT EXISTS idx_inference_logs_token_id ON inference_logs(token_id);
CREATE INDEX IF NOT EXISTS idx_inference_logs_status ON inference_logs(status);
)sql";

// API tokens: unique names, an updated_at, the month used_count counts
// (usage_month, "" = never used), the last use, and per-day per-model usage
// counters that go with their token (no reference to models: the history
// outlives a deleted model). Tokens had no store before, but a duplicate name
// would fail the unique index, so later duplicates get their id appended.
constexpr std::string_view kV4 = R"sql(
ALTER TABLE tokens ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN usage_month TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN last_used_at TEXT;
UPDATE tokens SET updated_at = created_at;
UPDATE tokens SET name = name || ' (' || id || ')'
  WHERE rowid NOT IN (SELECT MIN(rowid) FROM tokens GROUP BY name);
CREATE UNIQUE INDEX idx_tokens_name ON tokens(name);
CREATE TABLE token_usage_daily (
  token_id TEXT NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
  day TEXT NOT NULL,
  model_id TEXT NOT NULL,
  count INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (token_id, day, model_id)
);
)sql";

// The dashboard's overview reads (created_at, model_id, status, latency_ms) of
// every row in its window: a covering index makes that an index-only scan.
constexpr std::string_view kV5 = R"sql(
CREATE INDEX IF NOT EXISTS idx_inference_logs_overview
  ON inference_logs(created_at, model_id, status, latency_ms);
CREATE INDEX IF NOT EXISTS idx_audit_log_actor ON audit_log(actor, id);
)sql";

// Users and roles: every existing administrator keeps "admin"; other rows
// (none were ever created) become viewers.
constexpr std::string_view kV6 = R"sql(
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'viewer';
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_failed_login TEXT;
ALTER TABLE users ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
UPDATE users SET role = 'admin' WHERE is_admin = 1;
UPDATE users SET updated_at = created_at;
)sql";

}  // namespace

const std::vector<Migration>& SqliteMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "initial schema", kV1},           {2, "model versions and unique names", kV2},
      {3, "inference log stages", kV3},     {4, "token usage", kV4},
      {5, "dashboard overview index", kV5}, {6, "users and roles", kV6}};
  return kMigrations;
}

}  // namespace cinfer
