#include "http/access_log.h"

#include <cmath>

#include "common/log_fields.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace cinfer::http {

void LogAccess(const AccessEntry& e, bool json) {
  if (!json) {
    spdlog::info("{} \"{} {}\" {} {}B {:.1f}ms rid={}", e.client_ip, e.method, e.path, e.status,
                 e.bytes, e.ms, e.request_id);
    return;
  }
  nlohmann::json j = {{"event", "access"},
                      {"client_ip", e.client_ip},
                      {"method", e.method},
                      {"path", e.path},
                      {"status", e.status},
                      {"bytes", e.bytes},
                      {"latency_ms", std::round(e.ms * 1000) / 1000},
                      {"request_id", e.request_id}};
  if (!e.route.empty()) j["route"] = e.route;
  if (e.fields != nullptr) {
    for (const auto& [name, value] : *e.fields) j[name] = value;
  }
  spdlog::info("{}{}", kLogFieldsMarker,
               j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace cinfer::http
