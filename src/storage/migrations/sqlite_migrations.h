// The ordered schema migrations for SQLite. Each entry is applied once, in its
// own transaction, and recorded in schema_migrations.
#pragma once

#include <string_view>
#include <vector>

namespace cinfer {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

const std::vector<Migration>& SqliteMigrations();

}  // namespace cinfer
