#include "server/live_config.h"

#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace cinfer {

InferenceService::Options InferenceOptionsFrom(const Config& config) {
  const RequestConfig& rc = config.request;
  InferenceService::Options o;
  o.decode_limits.max_pixels = rc.max_image_pixels;
  o.decode_limits.max_jpeg_scans = rc.max_jpeg_scans;
  o.default_timeout = std::chrono::milliseconds(rc.timeout_ms);
  o.max_batch_images = static_cast<size_t>(rc.max_batch_images);
  o.capture_payload = config.logs.capture_payload;
  o.refusals_logged_per_second = config.logs.refusals_per_second;
  return o;
}

TokenService::Options TokenOptionsFrom(const Config& config) {
  const AuthConfig& ac = config.auth;
  auto limit = [](int v) { return v > 0 ? std::optional<int64_t>(v) : std::nullopt; };
  TokenService::Options o;
  o.default_expiry_days = ac.token_expiry_days;
  o.default_rate_limit = limit(ac.rate_limit.requests_per_minute);
  o.default_monthly_limit = limit(ac.rate_limit.requests_per_month);
  o.ip_filter = ac.ip_filter.enabled;
  return o;
}

AsyncRequests::Options AsyncOptionsFrom(const Config& config) {
  const RequestConfig& rc = config.request;
  AsyncRequests::Options o;
  o.threads = rc.async_threads;
  o.max_pending = static_cast<size_t>(rc.async_max_pending);
  o.max_pending_bytes = static_cast<size_t>(rc.async_max_pending_mb) << 20;
  o.max_results = static_cast<size_t>(rc.async_max_results);
  o.max_result_bytes = static_cast<size_t>(rc.async_max_result_mb) << 20;
  o.ttl = std::chrono::seconds(rc.async_result_ttl_s);
  return o;
}

LoginThrottle::Options ThrottleOptionsFrom(const Config& config) {
  return {.max_failures = config.auth.login_max_failures,
          .window = std::chrono::seconds(config.auth.login_window_s)};
}

InferenceLogWriter::Options LogWriterOptionsFrom(const Config& config) {
  const LogsConfig& lc = config.logs;
  InferenceLogWriter::Options o;
  o.queue_capacity = static_cast<size_t>(lc.queue_size);
  o.flush_interval = std::chrono::milliseconds(lc.flush_interval_ms);
  o.retention_days = lc.retention_days;
  o.max_rows = lc.max_rows;
  return o;
}

void ApplyLiveConfig(const Config& config, const LiveModules& m) {
  spdlog::set_level(spdlog::level::from_str(config.server.log_level));
  if (m.inference != nullptr) m.inference->UpdateOptions(InferenceOptionsFrom(config));
  if (m.tokens != nullptr) m.tokens->UpdateOptions(TokenOptionsFrom(config));
  if (m.async != nullptr) m.async->UpdateLimits(AsyncOptionsFrom(config));
  if (m.throttle != nullptr) m.throttle->UpdateOptions(ThrottleOptionsFrom(config));
  if (m.log_writer != nullptr) {
    m.log_writer->UpdateRetention(config.logs.retention_days, config.logs.max_rows);
  }
  if (m.models != nullptr) m.models->SetQueueSize(static_cast<size_t>(config.request.queue_size));
}

absl::StatusOr<http::HttpServer::LiveSettings> HttpLiveSettingsFrom(const Config& config) {
  http::HttpServer::LiveSettings s;
  s.access_log = config.server.access_log;
  ASSIGN_OR_RETURN(s.trusted_proxies, net::IpSet::Parse(config.server.trusted_proxies));
  return s;
}

}  // namespace cinfer
