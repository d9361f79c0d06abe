// Test-only seed records for store-backed tests (the first administrator most fixtures
// need before tokens, models or audit rows can reference a user).
#pragma once

#include <string>
#include <utility>

#include "storage/records.h"

namespace cinfer::testing {

inline UserRecord TestAdmin(std::string id = "u1", std::string username = "root",
                            std::string created_at = "2026-01-01T00:00:00.000Z") {
  UserRecord u;
  u.id = std::move(id);
  u.username = std::move(username);
  u.password_hash = "$argon2id$fake";
  u.is_admin = true;
  u.created_at = std::move(created_at);
  return u;
}

}  // namespace cinfer::testing
