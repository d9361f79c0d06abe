// Statement: RAII wrapper over a prepared sqlite3_stmt with typed binding and
// column access. Not thread-safe; used under the connection's lock.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cinfer::sqlite {

class Statement {
 public:
  static absl::StatusOr<Statement> Prepare(sqlite3* db, std::string_view sql);
  Statement(Statement&& other) noexcept : stmt_(other.stmt_), owned_(other.owned_) {
    other.stmt_ = nullptr;
  }
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  Statement& Bind(int index, std::string_view value);
  Statement& Bind(int index, const std::string& value) {
    return Bind(index, std::string_view(value));
  }
  Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Statement& Bind(int index, int64_t value);
  Statement& BindNull(int index);
  Statement& Bind(int index, const std::optional<std::string>& value);

  // Advances; true when a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Runs to completion, ignoring rows.
  absl::Status Run();

  std::string ColumnText(int col) const;
  std::optional<std::string> ColumnOptionalText(int col) const;
  int64_t ColumnInt(int col) const;
  // Valid until the next Step(); empty for NULL.
  std::string_view ColumnView(int col) const;
  // nullopt for NULL.
  std::optional<double> ColumnOptionalDouble(int col) const;

 private:
  friend class StatementCache;
  explicit Statement(sqlite3_stmt* stmt, bool owned = true) : stmt_(stmt), owned_(owned) {}
  sqlite3_stmt* stmt_;
  bool owned_;  // false: a StatementCache's, reset (not finalized) when done
};

// Prepared statements kept for the life of one connection, keyed by their SQL
// text, for the hot writes (token usage, inference-log batches): preparing
// costs more than running them. At most `capacity` are kept; beyond that Get
// prepares a statement of its own. Not thread-safe: use it under the
// connection's lock, and destroy it before closing the connection.
class StatementCache {
 public:
  explicit StatementCache(sqlite3* db, size_t capacity = 32) : db_(db), capacity_(capacity) {}
  ~StatementCache();
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  // A statement for `sql`; destroying it resets it and clears its bindings.
  absl::StatusOr<Statement> Get(std::string_view sql);
  size_t size() const { return stmts_.size(); }

 private:
  sqlite3* db_;
  size_t capacity_;
  std::unordered_map<std::string, sqlite3_stmt*> stmts_;
};

// Maps an SQLite result code to a Status with context.
absl::Status SqliteError(sqlite3* db, int rc, std::string_view what);

}  // namespace cinfer::sqlite
