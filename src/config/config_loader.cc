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
#include "config/config_fields.h"
#include "net/ip_address.h"
#include "yaml-cpp/yaml.h"

namespace cinfer {
namespace {

using config_fields::DescribeFields;
using config_fields::FieldSpec;
using config_fields::IsLiveKey;
using config_fields::IsSecretKey;
using config_fields::IsStartupOnlyKey;

absl::Status KeyError(std::string_view key, std::string_view message) {
  return FieldValidationError(key, message);
}

absl::Status BadValue(const FieldSpec& f, std::string_view value, std::string_view why) {
  if (IsSecretKey(f.path)) value = "<redacted>";
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
      if (f.check != nullptr) {
        if (absl::Status st = f.check(text); !st.ok()) {
          return BadValue(f, text, ToStd(st.message()));
        }
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
    if (IsStartupOnlyKey(key)) {
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
    k.apply = IsLiveKey(f.path)          ? ConfigApply::kLive
              : IsStartupOnlyKey(f.path) ? ConfigApply::kStartupOnly
                                         : ConfigApply::kRestart;
    k.secret = IsSecretKey(f.path);
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
