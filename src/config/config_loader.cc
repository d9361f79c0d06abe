#include "config/config_loader.h"

#include <charconv>
#include <climits>
#include <map>
#include <variant>

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

std::vector<FieldSpec> DescribeFields(Config& c) {
  const std::vector<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
  return {
      {"server.host", &c.server.host},
      {"server.port", &c.server.port, 0, 65535},
      {"server.workers", &c.server.workers, 1, 256},
      {"server.inference_workers", &c.server.inference_workers, 1, 256},
      {"server.io_threads", &c.server.io_threads, 1, 64},
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
      {"request.queue_size", &c.request.queue_size, 1, 1'000'000},
      {"request.timeout_ms", &c.request.timeout_ms, 1, 3'600'000},
      {"request.max_body_mb", &c.request.max_body_mb, 1, 4096},
      {"request.max_image_pixels", &c.request.max_image_pixels, 1, INT_MAX},
      {"request.max_jpeg_scans", &c.request.max_jpeg_scans, 1, 10000},
      {"request.decode_memory_mb", &c.request.decode_memory_mb, 16, 1024 * 1024},
      {"request.max_batch_images", &c.request.max_batch_images, 1, 4096},
      {"request.async_threads", &c.request.async_threads, 1, 256},
      {"request.async_max_pending", &c.request.async_max_pending, 1, 10'000'000},
      {"request.async_max_results", &c.request.async_max_results, 1, 10'000'000},
      {"request.async_max_result_mb", &c.request.async_max_result_mb, 1, 1024 * 1024},
      {"request.async_result_ttl_s", &c.request.async_result_ttl_s, 1, 30 * 86400},
      {"logs.capture_payload", &c.logs.capture_payload},
      {"logs.retention_days", &c.logs.retention_days, 1, 36500},
      {"logs.max_rows", &c.logs.max_rows, 1, INT_MAX},
      {"logs.flush_interval_ms", &c.logs.flush_interval_ms, 1, 60'000},
      {"logs.queue_size", &c.logs.queue_size, 1, 100'000'000},
      {"auth.token_expiry_days", &c.auth.token_expiry_days, 0, 36500},
      {"auth.admin_session_minutes", &c.auth.admin_session_minutes, 1, 525600},
      {"auth.login_max_failures", &c.auth.login_max_failures, 1, 1'000'000},
      {"auth.login_window_s", &c.auth.login_window_s, 1, 86400},
      {"auth.password_hash_concurrency", &c.auth.password_hash_concurrency, 1, 64},
      {"auth.rate_limit.requests_per_minute", &c.auth.rate_limit.requests_per_minute, 0, 1000000},
      {"auth.rate_limit.requests_per_month", &c.auth.rate_limit.requests_per_month, 0, INT_MAX},
      {"auth.ip_filter.enabled", &c.auth.ip_filter.enabled},
  };
}

absl::Status BadValue(const FieldSpec& f, std::string_view value, std::string_view why) {
  return absl::InvalidArgumentError(
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

absl::Status ApplyYamlMap(const FieldIndex& index, const YAML::Node& map,
                          const std::string& prefix) {
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    const std::string path = prefix.empty() ? key : StrCat(prefix, ".", key);
    if (const FieldSpec* f = index.Find(path)) {
      RETURN_IF_ERROR(SetFromYaml(*f, kv.second));
    } else if (index.IsSection(path)) {
      if (kv.second.IsNull()) continue;
      if (!kv.second.IsMap()) {
        return absl::InvalidArgumentError(StrCat("config key '", path, "' must be a mapping"));
      }
      RETURN_IF_ERROR(ApplyYamlMap(index, kv.second, path));
    } else {
      return absl::InvalidArgumentError(StrCat("unknown config key '", path, "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyEnvironment(const FieldIndex& index, const Environment& env) {
  for (const auto& [name, value] : env) {
    std::string_view rest = name;
    if (!rest.starts_with("CINFER_")) continue;
    rest.remove_prefix(7);
    if (rest.find("__") == std::string_view::npos) continue;
    const std::string path = ToLower(ReplaceAll(rest, "__", "."));
    const FieldSpec* f = index.Find(path);
    if (f == nullptr) {
      return absl::InvalidArgumentError(
          StrCat("unknown config key '", path, "' (from environment variable ", name, ")"));
    }
    RETURN_IF_ERROR(SetScalar(*f, value));
  }
  return absl::OkStatus();
}

absl::Status ValidateCrossField(const Config& c) {
  if (c.server.tls.enabled && (c.server.tls.cert_file.empty() || c.server.tls.key_file.empty())) {
    return absl::InvalidArgumentError(
        "config key 'server.tls.cert_file' and 'server.tls.key_file' are required when "
        "server.tls.enabled is true");
  }
  if (c.server.data_dir.empty()) {
    return absl::InvalidArgumentError("config key 'server.data_dir' must not be empty");
  }
  if (c.server.host.empty()) {
    return absl::InvalidArgumentError("config key 'server.host' must not be empty");
  }
  if (auto proxies = net::IpSet::Parse(c.server.trusted_proxies); !proxies.ok()) {
    return absl::InvalidArgumentError(
        StrCat("config key 'server.trusted_proxies': ", ToStd(proxies.status().message())));
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> Load(const YAML::Node* root, const Environment& env) {
  Config config;
  FieldIndex index(DescribeFields(config));
  if (root != nullptr && !root->IsNull()) {
    if (!root->IsMap()) return absl::InvalidArgumentError("config file must be a YAML mapping");
    RETURN_IF_ERROR(ApplyYamlMap(index, *root, ""));
  }
  RETURN_IF_ERROR(ApplyEnvironment(index, env));
  RETURN_IF_ERROR(ValidateCrossField(config));
  return config;
}

}  // namespace

absl::StatusOr<Config> LoadConfigFromString(const std::string& yaml_text, const Environment& env) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(StrCat("invalid YAML: ", e.what()));
  }
  return Load(&root, env);
}

absl::StatusOr<Config> LoadConfig(const std::optional<std::string>& yaml_path,
                                  const Environment& env) {
  if (!yaml_path.has_value()) return Load(nullptr, env);
  YAML::Node root;
  try {
    root = YAML::LoadFile(*yaml_path);
  } catch (const YAML::BadFile&) {
    return absl::NotFoundError(StrCat("cannot read config file ", *yaml_path));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(StrCat("invalid YAML in ", *yaml_path, ": ", e.what()));
  }
  return Load(&root, env);
}

std::vector<std::string> ConfigKeys() {
  Config c;
  std::vector<std::string> keys;
  for (const auto& f : DescribeFields(c)) keys.push_back(f.path);
  return keys;
}

}  // namespace cinfer
