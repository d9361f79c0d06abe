// The one way services write audit rows: stamped with the clock's time, the
// detail as JSON text (never a credential: callers pass only what may be kept).
#pragma once

#include <string_view>

#include "common/actor.h"
#include "common/clock.h"
#include "nlohmann/json.hpp"
#include "storage/database.h"

namespace cinfer {

// A failed write is logged and never fails the audited action.
void WriteAudit(AuditStore* store, const Clock& clock, const Actor& actor, std::string_view action,
                std::string_view object_type, std::string_view object_id,
                const nlohmann::json& detail = nlohmann::json::object());

}  // namespace cinfer
