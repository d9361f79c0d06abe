#include "config/config_fields.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <iterator>

#include "common/strings.h"
#include "net/ip_address.h"

namespace cinfer::config_fields {
namespace {

// metrics.listen: empty (the main listener) or a listen address.
absl::Status CheckListenAddress(std::string_view value) {
  if (value.empty()) return absl::OkStatus();
  return ParseListenAddress(value).status();
}

// server.*: listener, threads, limits, timeouts and TLS.
void AddServerFields(Config& c, std::vector<FieldSpec>* out) {
  const std::vector<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
  const std::vector<FieldSpec> fields = {
      {"server.host", &c.server.host},
      {"server.port", &c.server.port, 0, 65535},
      {"server.workers", &c.server.workers, 1, 256},
      {"server.inference_workers", &c.server.inference_workers, 1, 256},
      {"server.io_threads", &c.server.io_threads, 1, 64},
      {"server.io_nice", &c.server.io_nice, 0, 19},
      {"server.max_connections", &c.server.max_connections, 1, 1'000'000},
      {"server.log_level", &c.server.log_level, INT_MIN, INT_MAX, kLevels},
      {"server.log_format", &c.server.log_format, INT_MIN, INT_MAX, {"text", "json"}},
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
       {"onnx", "pytorch", "opencv", "tensorrt", "openvino"}},
      {"engines.plugin_dir", &c.engines.plugin_dir},
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
      {"engines.openvino.enabled", &c.engines.openvino.enabled},
      {"engines.openvino.threads", &c.engines.openvino.threads, 0, 256},
      {"engines.openvino.performance_hint",
       &c.engines.openvino.performance_hint,
       INT_MIN,
       INT_MAX,
       {"latency", "throughput"}},
      {"engines.openvino.streams", &c.engines.openvino.streams, 0, 256},
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
      {"request.usage_commit_linger_us", &c.request.usage_commit_linger_us, 0, 100'000},
      {"request.usage_commit_inline", &c.request.usage_commit_inline},
      {"logs.capture_payload", &c.logs.capture_payload},
      {"logs.refusals_per_second", &c.logs.refusals_per_second, -1, 1'000'000},
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
      {"metrics.listen", &c.metrics.listen, INT_MIN, INT_MAX, {}, &CheckListenAddress},
  };
  out->insert(out->end(), fields.begin(), fields.end());
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
    "logs.refusals_per_second",
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

}  // namespace

absl::StatusOr<ListenAddress> ParseListenAddress(std::string_view text) {
  auto bad = [](std::string_view why) { return absl::InvalidArgumentError(ToAbsl(why)); };
  if (std::any_of(text.begin(), text.end(), [](unsigned char ch) { return std::isspace(ch); })) {
    return bad("expected HOST:PORT without spaces");
  }
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return bad("expected HOST:PORT, e.g. 127.0.0.1:9464, 0.0.0.0:9464 or [::1]:9464");
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (host.starts_with('[')) {
    if (host.size() < 3 || !host.ends_with(']') || host.find(':') == std::string_view::npos) {
      return bad("expected [IPV6-ADDRESS]:PORT");
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("an IPv6 address goes in brackets: [ADDRESS]:PORT");
  }
  if (host.empty()) return bad("the host is missing (0.0.0.0 listens on every IPv4 address)");
  if (!net::ParseIpAddress(host).has_value()) {
    return bad(StrCat("'", host, "' is not an IP address (host names are not resolved)"));
  }
  int value = -1;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || !std::isdigit(static_cast<unsigned char>(port.front())) ||
      ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return bad(StrCat("the port '", port, "' is not a number between 0 and 65535"));
  }
  return ListenAddress{std::string(host), value};
}

std::vector<FieldSpec> DescribeFields(Config& c) {
  std::vector<FieldSpec> fields;
  for (auto* add : {AddServerFields, AddModelFields, AddRequestFields, AddAuthFields})
    add(c, &fields);
  return fields;
}

bool IsLiveKey(std::string_view key) { return Contains(kLiveKeys, key); }
bool IsStartupOnlyKey(std::string_view key) { return Contains(kStartupOnlyKeys, key); }
bool IsSecretKey(std::string_view key) { return Contains(kSecretKeys, key); }

}  // namespace cinfer::config_fields
