#include "storage/audit_writer.h"

#include "common/strings.h"
#include "common/time_format.h"
#include "spdlog/spdlog.h"

namespace cinfer {

void WriteAudit(AuditStore* store, const Clock& clock, const Actor& actor, std::string_view action,
                std::string_view object_type, std::string_view object_id,
                const nlohmann::json& detail) {
  AuditEntry e{FormatIso8601(clock.Now()),
               actor.name,
               std::string(action),
               std::string(object_type),
               std::string(object_id),
               actor.ip,
               detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  if (absl::Status st = store->AppendAudit(e); !st.ok()) {
    spdlog::error("audit log write failed ({}): {}", action, ToStd(st.message()));
  }
}

}  // namespace cinfer
