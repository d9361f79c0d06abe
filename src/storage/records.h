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

}  // namespace cinfer
