// Plain records exchanged with the storage layer. Times are ISO-8601 UTC text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cinfer {

struct UserRecord {
  std::string id;
  std::string username;
  std::string password_hash;
  bool is_admin = false;
  // Incremented whenever the password changes; sessions carry the version they
  // were issued under, so older sessions stop working.
  int64_t token_version = 0;
  std::string created_at;
  std::optional<std::string> last_login;
  std::string status = "active";
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

}  // namespace cinfer
