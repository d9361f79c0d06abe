// Statement: RAII wrapper over a prepared sqlite3_stmt with typed binding and
// column access. Not thread-safe; used under the connection's lock.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cinfer::sqlite {

class Statement {
 public:
  static absl::StatusOr<Statement> Prepare(sqlite3* db, std::string_view sql);
  Statement(Statement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
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
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  sqlite3_stmt* stmt_;
};

// Maps an SQLite result code to a Status with context.
absl::Status SqliteError(sqlite3* db, int rc, std::string_view what);

}  // namespace cinfer::sqlite
