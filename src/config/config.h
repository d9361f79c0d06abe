// Typed service configuration, in the structure of the design document §8.2
// (server, engines, models, request, auth). Plain data; see config_loader.h for
// how it is read and validated, and docs/CONFIG.md for every key.
#pragma once

#include <string>
#include <vector>

namespace cinfer {

struct TlsConfig {
  bool enabled = false;
  std::string cert_file;
  std::string key_file;
};

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8000;
  int workers = 4;             // request-handler threads (blocking work: hashing, storage)
  int inference_workers = 4;   // handler threads of the application API (decode, inference)
  int io_threads = 2;          // network threads (Asio io_context)
  int io_nice = 5;             // the network threads' nice value (0: as started)
  int max_connections = 1024;  // open connections; beyond them new ones are answered 503
  std::string log_level = "info";
  std::string log_format = "text";  // text | json (one JSON object per line)
  std::string data_dir = "./data";
  std::string assets_dir;  // empty: <directory of the binary>/share/cinfer
  int max_header_kb = 16;
  int max_json_body_kb = 1024;
  int read_timeout_s = 30;
  int idle_timeout_s = 60;
  int shutdown_timeout_s = 30;
  bool access_log = true;
  std::vector<std::string> trusted_proxies;
  TlsConfig tls;
};

struct OnnxEngineConfig {
  bool enabled = true;
  std::vector<std::string> execution_providers = {"CPUExecutionProvider"};
  int threads = 0;  // 0: the library's default (the cores); models size their own (serving_plan.h)
  int inter_op_threads = 1;
  std::string graph_optimization = "all";
};

struct TensorRtEngineConfig {
  bool enabled = false;
  std::string precision = "fp16";
};

struct PytorchEngineConfig {
  bool enabled = true;
  std::string device = "cpu";
  int threads = 0;  // 0: the library's default (the cores)
};

struct OpenCvEngineConfig {
  bool enabled = true;
};

struct OpenVinoEngineConfig {
  bool enabled = true;
  int threads = 0;                           // 0: OpenVINO's default (the cores)
  std::string performance_hint = "latency";  // latency | throughput
  int streams = 0;                           // CPU streams; 0: sized from the hint and the cores
};

struct EnginesConfig {
  std::string default_engine = "onnx";
  OnnxEngineConfig onnx;
  TensorRtEngineConfig tensorrt;
  PytorchEngineConfig pytorch;
  OpenCvEngineConfig opencv;
  OpenVinoEngineConfig openvino;
  std::string plugin_dir;  // engine plugins; empty: <folder of the cinfer binary>/engines
};

struct ModelsConfig {
  std::string storage_path;  // empty: <data_dir>/models
  int max_file_size_mb = 100;
  int validation_memory_mb = 4096;  // address-space limit of the validator child
  int validation_cpu_s = 120;       // CPU-time limit of the validator child
  int validation_timeout_s = 180;   // wall-clock limit of a validation
};

struct RequestConfig {
  int queue_size = 100;               // per served model; 503 QUEUE_FULL beyond it
  int max_in_flight = 512;            // application-API requests at once, all models (503 beyond)
  int max_in_flight_mb = 512;         // their bodies together (503 beyond)
  int timeout_ms = 5000;              // default deadline of an inference request (504 past it)
  int max_body_mb = 32;               // body limit of inference requests
  int max_image_pixels = 40'000'000;  // width * height of a decoded image
  int max_jpeg_scans = 100;           // scans of a (progressive) JPEG
  int decode_memory_mb = 256;         // memory of all concurrent image decodes together
  int max_batch_images = 64;          // images per /infer/batch request
  int async_threads = 2;              // threads running /infer/async requests
  int async_max_pending = 1000;       // queued + running async requests (503 beyond)
  int async_max_pending_mb = 256;     // their inputs together (503 beyond)
  int async_max_results = 1000;       // finished async results kept
  int async_max_result_mb = 256;      // memory bound of kept async results
  int async_result_ttl_s = 600;       // how long a finished async result is kept
  // Token-usage group commit (tokens/usage_recorder.h): how long the writer
  // waits under load for more requests to share a transaction, and whether an
  // idle server writes on the finishing thread instead of handing off.
  int usage_commit_linger_us = 2000;
  bool usage_commit_inline = true;
};

struct RateLimitConfig {
  int requests_per_minute = 60;
  int requests_per_month = 10000;
};

struct IpFilterConfig {
  bool enabled = true;
};

struct AuthConfig {
  std::string jwt_secret;  // empty: <data_dir>/jwt-secret (replicas must share one)
  int token_expiry_days = 30;
  int admin_session_minutes = 60;
  int login_max_failures = 5;
  int login_window_s = 300;
  int password_hash_concurrency = 2;
  RateLimitConfig rate_limit;
  IpFilterConfig ip_filter;
};

struct LogsConfig {
  bool capture_payload = false;  // keep request/response summaries in inference logs
  int refusals_per_second = 10;  // per model: 503 QUEUE_FULL/OVERLOADED rows logged a second
  int retention_days = 30;       // inference-log rows older than this are deleted
  int max_rows = 1'000'000;      // and the oldest beyond this count
  int flush_interval_ms = 200;   // the background writer's batching interval
  int queue_size = 100'000;      // rows waiting to be written (dropped and counted beyond)
};

// GET /metrics (Prometheus text or OpenMetrics): on the main listener, or on
// a listener of its own.
struct MetricsConfig {
  bool enabled = true;
  std::string token;   // when set, scrapes must send Authorization: Bearer <token>
  std::string listen;  // "HOST:PORT" ("[::1]:9464"): a second listener; empty: the main one
};

struct Config {
  ServerConfig server;
  EnginesConfig engines;
  ModelsConfig models;
  RequestConfig request;
  AuthConfig auth;
  LogsConfig logs;
  MetricsConfig metrics;
};

}  // namespace cinfer
