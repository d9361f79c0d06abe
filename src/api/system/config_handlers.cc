#include "api/system/config_handlers.h"

#include <algorithm>

#include "api/admin_authenticator.h"
#include "api/json_util.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "spdlog/spdlog.h"
#include "storage/audit_writer.h"

namespace cinfer::api {
namespace {

using http::Request;
using http::Response;
using Result = absl::StatusOr<Response>;

// What a secret's value shows; a PATCH sending it back leaves the secret as it is.
constexpr std::string_view kRedacted = "********";

nlohmann::json ValueJson(const ConfigValue& value) {
  return std::visit([](const auto& v) { return nlohmann::json(v); }, value);
}

nlohmann::json Shown(const ConfigKeyInfo& key, const ConfigValue& value) {
  if (!key.secret) return ValueJson(value);
  const auto* s = std::get_if<std::string>(&value);
  return s != nullptr && s->empty() ? "" : kRedacted;
}

nlohmann::json KeyJson(const RuntimeConfig::KeyState& k) {
  const ConfigKeyInfo& info = k.info;
  nlohmann::json j = {{"key", info.path},
                      {"section", info.path.substr(0, info.path.find('.'))},
                      {"type", ConfigTypeName(info.type)},
                      {"value", Shown(info, k.value)},
                      {"default", Shown(info, k.default_value)},
                      {"source", ConfigSourceName(k.source)},
                      // A startup-only key reads "restart" here, with editable false.
                      {"apply", info.apply == ConfigApply::kLive ? "live" : "restart"},
                      {"secret", info.secret},
                      {"env", info.env_name}};
  if (info.type == ConfigType::kInteger) {
    j["min"] = info.min;
    j["max"] = info.max;
  }
  if (!info.choices.empty()) j["choices"] = info.choices;
  if (info.apply == ConfigApply::kStartupOnly) {
    j["editable"] = false;
    j["reason"] = "locates the data directory: set it in the config file or the environment";
  } else if (k.source == ConfigSource::kEnvironment) {
    j["editable"] = false;
    j["reason"] = StrCat("set by the environment variable ", info.env_name);
  } else {
    j["editable"] = true;
  }
  if (k.pending.has_value()) {
    j["pending"] = true;
    j["pending_value"] = Shown(info, *k.pending);
  }
  return j;
}

nlohmann::json Document(const RuntimeConfig& runtime) {
  nlohmann::json keys = nlohmann::json::array();
  nlohmann::json pending = nlohmann::json::array();
  for (const auto& k : runtime.Describe()) {
    keys.push_back(KeyJson(k));
    if (k.pending.has_value()) pending.push_back(k.info.path);
  }
  return {{"override_file", runtime.override_path()},
          {"pending_restart", std::move(pending)},
          {"keys", std::move(keys)}};
}

absl::StatusOr<ConfigValue> ValueFromJson(const ConfigKeyInfo& key, const nlohmann::json& v) {
  switch (key.type) {
    case ConfigType::kInteger:
      if (v.is_number_integer()) {
        if (v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX) break;
        return ConfigValue(v.get<int64_t>());
      }
      return FieldValidationError(key.path,
                                  StrCat("config key '", key.path, "' expects an integer"));
    case ConfigType::kBoolean:
      if (v.is_boolean()) return ConfigValue(v.get<bool>());
      return FieldValidationError(key.path,
                                  StrCat("config key '", key.path, "' expects true or false"));
    case ConfigType::kString:
      if (v.is_string()) return ConfigValue(v.get<std::string>());
      return FieldValidationError(key.path, StrCat("config key '", key.path, "' expects a string"));
    case ConfigType::kList: {
      std::vector<std::string> items;
      if (v.is_array()) {
        for (const auto& item : v) {
          if (!item.is_string()) break;
          items.push_back(item.get<std::string>());
        }
        if (items.size() == v.size()) return ConfigValue(std::move(items));
      }
      return FieldValidationError(key.path,
                                  StrCat("config key '", key.path, "' expects a list of strings"));
    }
  }
  return FieldValidationError(key.path, StrCat("config key '", key.path, "': value out of range"));
}

nlohmann::json AuditValue(const RuntimeConfig::Change& c, const ConfigValue& v) {
  if (!c.secret) return ValueJson(v);
  const auto* s = std::get_if<std::string>(&v);
  return s != nullptr && s->empty() ? "" : "<redacted>";
}

Result Patch(RuntimeConfig* runtime, AuditStore* audit, const Clock* clock, Request& req) {
  ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonObject(req));
  if (body.empty()) return ValidationError("the body names no config keys");
  const std::vector<ConfigKeyInfo> keys = DescribeConfigKeys();
  RuntimeConfig::Patch patch;
  for (const auto& [name, value] : body.items()) {
    auto key = std::ranges::find(keys, name, &ConfigKeyInfo::path);
    if (key == keys.end())
      return FieldValidationError(name, StrCat("unknown config key '", name, "'"));
    if (value.is_null()) {
      patch.emplace_back(name, std::nullopt);
      continue;
    }
    if (key->secret && value.is_string() && value.get<std::string>() == kRedacted) continue;
    ASSIGN_OR_RETURN(ConfigValue v, ValueFromJson(*key, value));
    patch.emplace_back(name, std::move(v));
  }
  ASSIGN_OR_RETURN(std::vector<RuntimeConfig::Change> changes, runtime->Apply(patch));
  nlohmann::json changed = nlohmann::json::array();
  nlohmann::json detail = nlohmann::json::array();
  for (const auto& c : changes) {
    changed.push_back(c.key);
    detail.push_back(
        {{"key", c.key}, {"old", AuditValue(c, c.old_value)}, {"new", AuditValue(c, c.new_value)}});
  }
  if (!changes.empty()) {
    const Actor actor = ActorOf(req);
    WriteAudit(audit, *clock, actor, "config.update", "config", "", {{"changes", detail}});
    spdlog::info("configuration changed by {}: {}", actor.name, changed.dump());
  }
  nlohmann::json doc = Document(*runtime);
  doc["changed"] = std::move(changed);
  return JsonResponse(200, doc);
}

}  // namespace

void AddConfigRoutes(RuntimeConfig* runtime, AuditStore* audit, const Clock* clock,
                     std::vector<http::Route>& routes) {
  routes.push_back(
      {"GET", "/api/v1/internal/system/config", http::AuthScope::kAdmin,
       [runtime](Request&) -> Result { return JsonResponse(200, Document(*runtime)); }});
  routes.push_back(
      {"PATCH", "/api/v1/internal/system/config", http::AuthScope::kAdmin,
       [runtime, audit, clock](Request& req) { return Patch(runtime, audit, clock, req); }});
}

}  // namespace cinfer::api
