#include "config/config_loader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <map>
#include <type_traits>
#include <variant>

#include "common/errors.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "net/ip_address.h"
#include "yaml-cpp/yaml.h"

namespace cinfer {
namespace {

using Target = std::variant<int*, bool*, std::string*, std::vector<std::string>*>;

struct FieldSpec {
  std::string path;
  Target target;
  int64_t min = INT_MIN;
  int64_t max = INT_MAX;
  std::vector<std::string> choices = {};
};

// server.*: listener, threads, limits, timeouts and TLS.
void AddServerFields(Config& c, std::vector<FieldSpec>* out) {
  const std::vector<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
  const std::vector<FieldSpec> fields = {
      {"server.host", &c.server.host},
      {"server.port", &c.server.port, 0, 65535},
      {"server.workers", &c.server.workers, 1, 256},
      {"server.inference_workers", &c.server.inference_workers, 1, 256},
      {"server.io_threads", &c.server.io_threads, 1, 64},
      {"server.max_connections", &c.server.max_connections, 1, 1'000'000},
      {"server.log_level", &c.server.log_level, INT_MIN, INT_MAX, kLevels},
      {"server.data_dir", &c.server.data_dir},
      {"server.assets_dir", &c.server.assets_dir},
      {"server.max_header_kb", &c.server.max_header_kb, 1, 1024},
      {"server.max_json_body_kb", &c.server.max_json_body_kb, 1, 1024 * 1024},
      {"server.read_timeout_s", &c.server.read_timeout_s, 1, 3600},
      {"server.idle_timeout_s", &c.server.idle_timeout_s, 1, 3600},
      {"server.shutdown_timeout_s", &c.server.shutdown_timeout_s, 0, 3600},
      {"server.access_log", &c.server.access_log},
      {"server.trusted_proxies", &c.server.trusted_proxies},
      {"server.tls.enabled", &c.server.tls.enabled},
      {"server.tls.cert_file", &c.server.tls.cert_file},
      {"server.tls.key_file", &c.server.tls.key_file},
  };
  out->insert(out->end(), fields.begin(), fields.end());
}

// engines.* and models.*: the engines, model storage and the validation sandbox.
void AddModelFields(Config& c, std::vector<FieldSpec>* out) {
  const std::vector<FieldSpec> fields = {
      {"engines.default",
       &c.engines.default_engine,
       INT_MIN,
       INT_MAX,
       {"onnx", "pytorch", "opencv", "tensorrt"}},
      {"engines.onnx.enabled", &c.engines.onnx.enabled},
      {"engines.onnx.execution_providers", &c.engines.onnx.execution_providers},
      {"engines.onnx.threads", &c.engines.onnx.threads, 0, 256},
      {"engines.onnx.inter_op_threads", &c.engines.onnx.inter_op_threads, 0, 256},
      {"engines.onnx.graph_optimization",
       &c.engines.onnx.graph_optimization,
       INT_MIN,
       INT_MAX,
       {"disable", "basic", "extended", "all"}},
      {"engines.tensorrt.enabled", &c.engines.tensorrt.enabled},
      {"engines.tensorrt.precision",
       &c.engines.tensorrt.precision,
       INT_MIN,
       INT_MAX,
       {"fp32", "fp16", "int8"}},
      {"engines.pytorch.enabled", &c.engines.pytorch.enabled},
      {"engines.pytorch.device", &c.engines.pytorch.device, INT_MIN, INT_MAX, {"cpu", "cuda"}},
      {"engines.pytorch.threads", &c.engines.pytorch.threads, 0, 256},
      {"engines.opencv.enabled", &c.engines.opencv.enabled},
      {"models.storage_path", &c.models.storage_path},
      {"models.max_file_size_mb", &c.models.max_file_size_mb, 1, 1024 * 1024},
      {"models.validation_memory_mb", &c.models.validation_memory_mb, 256, 1024 * 1024},
      {"models.validation_cpu_s", &c.models.validation_cpu_s, 1, 86400},
      {"models.validation_timeout_s", &c.models.validation_timeout_s, 1, 86400},
  };
  out->insert(out->end(), fields.begin(), fields.end());
}

// request.* and logs.*: queueing, body and image limits, async requests, the log.
void AddRequestFields(Config& c, std::vector<FieldSpec>* out) {
  const std::vector<FieldSpec> fields = {
      {"request.queue_size", &c.request.queue_size, 1, 1'000'000},
      {"request.max_in_flight", &c.request.max_in_flight, 1, 1'000'000},
      {"request.max_in_flight_mb", &c.request.max_in_flight_mb, 1, 1024 * 1024},
      {"request.timeout_ms", &c.request.timeout_ms, 1, 3'600'000},
      {"request.max_body_mb", &c.request.max_body_mb, 1, 4096},
      {"request.max_image_pixels", &c.request.max_image_pixels, 1, INT_MAX},
      {"request.max_jpeg_scans", &c.request.max_jpeg_scans, 1, 10000},
      {"request.decode_memory_mb", &c.request.decode_memory_mb, 16, 1024 * 1024},
      {"request.max_batch_images", &c.request.max_batch_images, 1, 4096},
      {"request.async_threads", &c.request.async_threads, 1, 256},
      {"request.async_max_pending", &c.request.async_max_pending, 1, 10'000'000},
      {"request.async_max_pending_mb", &c.request.async_max_pending_mb, 1, 1024 * 1024},
      {"request.async_max_results", &c.request.async_max_results, 1, 10'000'000},
      {"request.async_max_result_mb", &c.request.async_max_result_mb, 1, 1024 * 1024},
      {"request.async_result_ttl_s", &c.request.async_result_ttl_s, 1, 30 * 86400},
      {"logs.capture_payload", &c.logs.capture_payload},
      {"logs.retention_days", &c.logs.retention_days, 1, 36500},
      {"logs.max_rows", &c.logs.max_rows, 1, INT_MAX},
      {"logs.flush_interval_ms", &c.logs.flush_interval_ms, 1, 60'000},
      {"logs.queue_size", &c.logs.queue_size, 1, 100'000'000},
  };
  out->insert(out->end(), fields.begin(), fields.end());
}

// auth.*: sessions, login throttling, API token limits; metrics.*: /metrics.
void AddAuthFields(Config& c, std::vector<FieldSpec>* out) {
  const std::vector<FieldSpec> fields = {
      {"auth.jwt_secret", &c.auth.jwt_secret},
      {"auth.token_expiry_days", &c.auth.token_expiry_days, 0, 36500},
      {"auth.admin_session_minutes", &c.auth.admin_session_minutes, 1, 525600},
      {"auth.login_max_failures", &c.auth.login_max_failures, 1, 1'000'000},
      {"auth.login_window_s", &c.auth.login_window_s, 1, 86400},
      {"auth.password_hash_concurrency", &c.auth.password_hash_concurrency, 1, 64},
      {"auth.rate_limit.requests_per_minute", &c.auth.rate_limit.requests_per_minute, 0, 1000000},
      {"auth.rate_limit.requests_per_month", &c.auth.rate_limit.requests_per_month, 0, INT_MAX},
      {"auth.ip_filter.enabled", &c.auth.ip_filter.enabled},
      {"metrics.enabled", &c.metrics.enabled},
      {"metrics.token", &c.metrics.token},
  };
  out->insert(out->end(), fields.begin(), fields.end());
}

// Every config key, section by section; key listings keep this order.
std::vector<FieldSpec> DescribeFields(Config& c) {
  std::vector<FieldSpec> fields;
  for (auto* add : {AddServerFields, AddModelFields, AddRequestFields, AddAuthFields})
    add(c, &fields);
  return fields;
}

// Keys applied without a restart; the server subscribes the modules that own
// them (src/server/live_config.cc). Everything else waits for a restart.
constexpr std::string_view kLiveKeys[] = {
    "server.log_level",
    "server.access_log",
    "server.trusted_proxies",
    "request.queue_size",
    "request.timeout_ms",
    "request.max_image_pixels",
    "request.max_jpeg_scans",
    "request.max_batch_images",
    "request.async_max_pending",
    "request.async_max_pending_mb",
    "request.async_max_results",
    "request.async_max_result_mb",
    "request.async_result_ttl_s",
    "logs.capture_payload",
    "logs.retention_days",
    "logs.max_rows",
    "auth.token_expiry_days",
    "auth.login_max_failures",
    "auth.login_window_s",
    "auth.rate_limit.requests_per_minute",
    "auth.rate_limit.requests_per_month",
    "auth.ip_filter.enabled",
};
constexpr std::string_view kStartupOnlyKeys[] = {"server.data_dir"};
constexpr std::string_view kSecretKeys[] = {"auth.jwt_secret", "metrics.token"};

template <size_t N>
bool Contains(const std::string_view (&list)[N], std::string_view key) {
  return std::find(std::begin(list), std::end(list), key) != std::end(list);
}

absl::Status KeyError(std::string_view key, std::string_view message) {
  return FieldValidationError(key, message);
}

absl::Status BadValue(const FieldSpec& f, std::string_view value, std::string_view why) {
  if (Contains(kSecretKeys, f.path)) value = "<redacted>";
  return KeyError(f.path,
                  StrCat("invalid value '", value, "' for config key '", f.path, "': ", why));
}

absl::Status SetScalar(const FieldSpec& f, const std::string& text) {
  struct Visitor {
    const FieldSpec& f;
    const std::string& text;
    absl::Status operator()(int* out) const {
      int64_t v = 0;
      std::string_view s = Trim(text);
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || p != s.data() + s.size()) return BadValue(f, text, "not an integer");
      if (v < f.min || v > f.max) {
        return BadValue(f, text, StrCat("must be between ", f.min, " and ", f.max));
      }
      *out = static_cast<int>(v);
      return absl::OkStatus();
    }
    absl::Status operator()(bool* out) const {
      std::string s = ToLower(Trim(text));
      if (s == "true" || s == "1" || s == "yes" || s == "on") {
        *out = true;
      } else if (s == "false" || s == "0" || s == "no" || s == "off") {
        *out = false;
      } else {
        return BadValue(f, text, "not a boolean");
      }
      return absl::OkStatus();
    }
    absl::Status operator()(std::string* out) const {
      if (!f.choices.empty() &&
          std::find(f.choices.begin(), f.choices.end(), text) == f.choices.end()) {
        return BadValue(f, text, StrCat("expected one of ", Join(f.choices, ", ")));
      }
      *out = text;
      return absl::OkStatus();
    }
    absl::Status operator()(std::vector<std::string>* out) const {
      // From the environment: comma-separated ("a,b"), optionally in [brackets].
      std::string_view s = Trim(text);
      if (s.starts_with("[")) {
        if (!s.ends_with("]")) return BadValue(f, text, "unterminated list");
        s = s.substr(1, s.size() - 2);
      }
      out->clear();
      for (std::string_view item : Split(s, ',')) {
        item = Trim(item);
        if (item.empty()) continue;
        if (item.size() >= 2 && (item.front() == '"' || item.front() == '\'')) {
          item = item.substr(1, item.size() - 2);
        }
        out->emplace_back(item);
      }
      return absl::OkStatus();
    }
  };
  return std::visit(Visitor{f, text}, f.target);
}

absl::Status SetFromYaml(const FieldSpec& f, const YAML::Node& node) {
  if (auto* list = std::get_if<std::vector<std::string>*>(&f.target)) {
    if (node.IsNull()) {
      (*list)->clear();
      return absl::OkStatus();
    }
    if (!node.IsSequence()) return BadValue(f, YAML::Dump(node), "expected a list");
    std::vector<std::string> items;
    for (const auto& item : node) {
      if (!item.IsScalar()) return BadValue(f, YAML::Dump(item), "list items must be scalars");
      items.push_back(item.Scalar());
    }
    **list = std::move(items);
    return absl::OkStatus();
  }
  if (!node.IsScalar()) return BadValue(f, YAML::Dump(node), "expected a scalar value");
  return SetScalar(f, node.Scalar());
}

class FieldIndex {
 public:
  explicit FieldIndex(std::vector<FieldSpec> fields) : fields_(std::move(fields)) {}

  const FieldSpec* Find(std::string_view path) const {
    for (const auto& f : fields_) {
      if (f.path == path) return &f;
    }
    return nullptr;
  }
  bool IsSection(std::string_view path) const {
    for (const auto& f : fields_) {
      if (std::string_view(f.path).starts_with(StrCat(path, "."))) return true;
    }
    return false;
  }
  const std::vector<FieldSpec>& fields() const { return fields_; }

 private:
  std::vector<FieldSpec> fields_;
};

using Sources = std::map<std::string, ConfigSource>;

absl::Status ApplyYamlMap(const FieldIndex& index, const YAML::Node& map, const std::string& prefix,
                          Sources& sources) {
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    const std::string path = prefix.empty() ? key : StrCat(prefix, ".", key);
    if (const FieldSpec* f = index.Find(path)) {
      RETURN_IF_ERROR(SetFromYaml(*f, kv.second));
      sources[path] = ConfigSource::kFile;
    } else if (index.IsSection(path)) {
      if (kv.second.IsNull()) continue;
      if (!kv.second.IsMap())
        return KeyError(path, StrCat("config key '", path, "' must be a mapping"));
      RETURN_IF_ERROR(ApplyYamlMap(index, kv.second, path, sources));
    } else {
      return KeyError(path, StrCat("unknown config key '", path, "'"));
    }
  }
  return absl::OkStatus();
}

std::string EnvName(std::string_view path) {
  std::string name = StrCat("CINFER_", ReplaceAll(path, ".", "__"));
  for (char& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return name;
}

absl::Status ApplyEnvironment(const FieldIndex& index, const Environment& env, Sources& sources) {
  for (const auto& [name, value] : env) {
    std::string_view rest = name;
    if (!rest.starts_with("CINFER_")) continue;
    rest.remove_prefix(7);
    if (rest.find("__") == std::string_view::npos) continue;
    const std::string path = ToLower(ReplaceAll(rest, "__", "."));
    const FieldSpec* f = index.Find(path);
    if (f == nullptr) {
      return KeyError(
          path, StrCat("unknown config key '", path, "' (from environment variable ", name, ")"));
    }
    RETURN_IF_ERROR(SetScalar(*f, value));
    sources[path] = ConfigSource::kEnvironment;
  }
  return absl::OkStatus();
}

absl::Status ValidateCrossField(const Config& c) {
  if (c.server.tls.enabled && (c.server.tls.cert_file.empty() || c.server.tls.key_file.empty())) {
    return KeyError("server.tls.cert_file",
                    "config key 'server.tls.cert_file' and 'server.tls.key_file' are required when "
                    "server.tls.enabled is true");
  }
  if (c.server.data_dir.empty()) {
    return KeyError("server.data_dir", "config key 'server.data_dir' must not be empty");
  }
  if (c.server.host.empty()) {
    return KeyError("server.host", "config key 'server.host' must not be empty");
  }
  if (auto proxies = net::IpSet::Parse(c.server.trusted_proxies); !proxies.ok()) {
    return KeyError("server.trusted_proxies", StrCat("config key 'server.trusted_proxies': ",
                                                     ToStd(proxies.status().message())));
  }
  if (!c.auth.jwt_secret.empty() && c.auth.jwt_secret.size() < 32) {
    return KeyError("auth.jwt_secret",
                    "config key 'auth.jwt_secret' must be at least 32 characters when set");
  }
  return absl::OkStatus();
}

struct ValueSetter {
  const FieldSpec& f;
  const ConfigValue& value;
  absl::Status Mismatch(std::string_view expected) const {
    return KeyError(f.path, StrCat("config key '", f.path, "' expects ", expected));
  }
  absl::Status operator()(int* out) const {
    const auto* v = std::get_if<int64_t>(&value);
    if (v == nullptr) return Mismatch("an integer");
    if (*v < f.min || *v > f.max) {
      return BadValue(f, StrCat(*v), StrCat("must be between ", f.min, " and ", f.max));
    }
    *out = static_cast<int>(*v);
    return absl::OkStatus();
  }
  absl::Status operator()(bool* out) const {
    const auto* v = std::get_if<bool>(&value);
    if (v == nullptr) return Mismatch("a boolean");
    *out = *v;
    return absl::OkStatus();
  }
  absl::Status operator()(std::string* out) const {
    const auto* v = std::get_if<std::string>(&value);
    if (v == nullptr) return Mismatch("a string");
    (void)out;  // SetScalar writes through f.target, which is `out`
    return SetScalar(f, *v);
  }
  absl::Status operator()(std::vector<std::string>* out) const {
    const auto* v = std::get_if<std::vector<std::string>>(&value);
    if (v == nullptr) return Mismatch("a list of strings");
    *out = *v;
    return absl::OkStatus();
  }
};

absl::Status ApplyOverrides(const FieldIndex& index, const ConfigOverrides& overrides,
                            Sources& sources) {
  for (const auto& [key, value] : overrides) {
    const FieldSpec* f = index.Find(key);
    if (f == nullptr) return KeyError(key, StrCat("unknown config key '", key, "'"));
    if (Contains(kStartupOnlyKeys, key)) {
      return KeyError(key, StrCat("config key '", key,
                                  "' can only be set in the config file or the environment"));
    }
    RETURN_IF_ERROR(std::visit(ValueSetter{*f, value}, f->target));
    sources[key] = ConfigSource::kOverride;
  }
  return absl::OkStatus();
}

absl::StatusOr<LayeredConfig> Load(const YAML::Node* root, const ConfigOverrides& overrides,
                                   const Environment& env) {
  LayeredConfig out;
  FieldIndex index(DescribeFields(out.config));
  for (const auto& f : index.fields()) out.sources[f.path] = ConfigSource::kDefault;
  if (root != nullptr && !root->IsNull()) {
    if (!root->IsMap()) return absl::InvalidArgumentError("config file must be a YAML mapping");
    RETURN_IF_ERROR(ApplyYamlMap(index, *root, "", out.sources));
  }
  RETURN_IF_ERROR(ApplyOverrides(index, overrides, out.sources));
  RETURN_IF_ERROR(ApplyEnvironment(index, env, out.sources));
  RETURN_IF_ERROR(ValidateCrossField(out.config));
  return out;
}

absl::StatusOr<YAML::Node> ParseYaml(const std::string& text, std::string_view what) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(StrCat("invalid YAML", what, ": ", e.what()));
  }
}

struct ValueGetter {
  ConfigValue operator()(const int* v) const { return static_cast<int64_t>(*v); }
  ConfigValue operator()(const bool* v) const { return *v; }
  ConfigValue operator()(const std::string* v) const { return *v; }
  ConfigValue operator()(const std::vector<std::string>* v) const { return *v; }
};

}  // namespace

std::string_view ConfigSourceName(ConfigSource source) {
  switch (source) {
    case ConfigSource::kDefault:
      return "default";
    case ConfigSource::kFile:
      return "file";
    case ConfigSource::kOverride:
      return "override";
    case ConfigSource::kEnvironment:
      return "environment";
  }
  return "default";
}

std::string_view ConfigApplyName(ConfigApply apply) {
  switch (apply) {
    case ConfigApply::kLive:
      return "live";
    case ConfigApply::kRestart:
      return "restart";
    case ConfigApply::kStartupOnly:
      return "startup_only";
  }
  return "restart";
}

std::string_view ConfigTypeName(ConfigType type) {
  switch (type) {
    case ConfigType::kInteger:
      return "integer";
    case ConfigType::kBoolean:
      return "boolean";
    case ConfigType::kString:
      return "string";
    case ConfigType::kList:
      return "list";
  }
  return "string";
}

std::vector<ConfigKeyInfo> DescribeConfigKeys() {
  Config c;
  std::vector<ConfigKeyInfo> out;
  for (const auto& f : DescribeFields(c)) {
    ConfigKeyInfo k;
    k.path = f.path;
    k.type = std::visit(
        [](auto* p) {
          using T = std::remove_pointer_t<decltype(p)>;
          if constexpr (std::is_same_v<T, int>) return ConfigType::kInteger;
          if constexpr (std::is_same_v<T, bool>) return ConfigType::kBoolean;
          if constexpr (std::is_same_v<T, std::string>) return ConfigType::kString;
          return ConfigType::kList;
        },
        f.target);
    if (k.type == ConfigType::kInteger) {
      k.min = f.min;
      k.max = f.max;
    }
    k.choices = f.choices;
    k.apply = Contains(kLiveKeys, f.path)          ? ConfigApply::kLive
              : Contains(kStartupOnlyKeys, f.path) ? ConfigApply::kStartupOnly
                                                   : ConfigApply::kRestart;
    k.secret = Contains(kSecretKeys, f.path);
    k.env_name = EnvName(f.path);
    out.push_back(std::move(k));
  }
  return out;
}

std::vector<std::string> ConfigKeys() {
  Config c;
  std::vector<std::string> keys;
  for (const auto& f : DescribeFields(c)) keys.push_back(f.path);
  return keys;
}

std::vector<ConfigValue> ConfigValues(const Config& config) {
  Config copy = config;  // DescribeFields points into a mutable Config
  std::vector<ConfigValue> out;
  for (const auto& f : DescribeFields(copy)) out.push_back(std::visit(ValueGetter{}, f.target));
  return out;
}

absl::Status SetConfigValue(Config& config, std::string_view key, const ConfigValue& value) {
  FieldIndex index(DescribeFields(config));
  const FieldSpec* f = index.Find(key);
  if (f == nullptr) return KeyError(key, StrCat("unknown config key '", key, "'"));
  return std::visit(ValueSetter{*f, value}, f->target);
}

absl::StatusOr<ConfigOverrides> ParseConfigOverrides(const std::string& yaml_text) {
  ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(yaml_text, " in the override file"));
  ConfigOverrides out;
  if (root.IsNull()) return out;
  if (!root.IsMap()) return absl::InvalidArgumentError("the override file must be a YAML mapping");
  Config scratch;
  FieldIndex index(DescribeFields(scratch));
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const FieldSpec* f = index.Find(key);
    if (f == nullptr) return KeyError(key, StrCat("unknown config key '", key, "'"));
    RETURN_IF_ERROR(SetFromYaml(*f, kv.second));
    out[key] = std::visit(ValueGetter{}, f->target);
  }
  return out;
}

std::string SerializeConfigOverrides(const ConfigOverrides& overrides) {
  YAML::Emitter y;
  y << YAML::BeginMap;
  for (const auto& [key, value] : overrides) {
    y << YAML::Key << key << YAML::Value;
    std::visit(
        [&y](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            y << YAML::Flow << YAML::BeginSeq;
            for (const auto& item : v) y << YAML::DoubleQuoted << item;
            y << YAML::EndSeq;
          } else if constexpr (std::is_same_v<T, std::string>) {
            y << YAML::DoubleQuoted << v;
          } else {
            y << v;
          }
        },
        value);
  }
  y << YAML::EndMap;
  return StrCat(
      "# Runtime overrides written by cinfer (PATCH /api/v1/internal/system/config).\n"
      "# Applied after the config file and before CINFER_* environment variables.\n",
      overrides.empty() ? std::string("{}") : std::string(y.c_str()), "\n");
}

absl::StatusOr<LayeredConfig> LoadLayeredConfig(const std::string& file_yaml,
                                                const ConfigOverrides& overrides,
                                                const Environment& env) {
  ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(file_yaml, ""));
  return Load(&root, overrides, env);
}

absl::StatusOr<Config> LoadConfigFromString(const std::string& yaml_text, const Environment& env) {
  ASSIGN_OR_RETURN(LayeredConfig layered, LoadLayeredConfig(yaml_text, {}, env));
  return std::move(layered.config);
}

absl::StatusOr<Config> LoadConfig(const std::optional<std::string>& yaml_path,
                                  const Environment& env) {
  if (!yaml_path.has_value()) return LoadConfigFromString("", env);
  auto text = ReadFileToString(*yaml_path);
  if (!text.ok()) return absl::NotFoundError(StrCat("cannot read config file ", *yaml_path));
  auto config = LoadConfigFromString(*text, env);
  if (!config.ok() && ToStd(config.status().message()).starts_with("invalid YAML:")) {
    return absl::InvalidArgumentError(
        StrCat("invalid YAML in ", *yaml_path, ToStd(config.status().message()).substr(12)));
  }
  return config;
}

}  // namespace cinfer
