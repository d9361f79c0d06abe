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
  int workers = 4;     // request-handler threads (blocking work: hashing, storage)
  int io_threads = 2;  // network threads (Asio io_context)
  std::string log_level = "info";
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
  int threads = 4;
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
  int threads = 4;
};

struct OpenCvEngineConfig {
  bool enabled = true;
};

struct EnginesConfig {
  std::string default_engine = "onnx";
  OnnxEngineConfig onnx;
  TensorRtEngineConfig tensorrt;
  PytorchEngineConfig pytorch;
  OpenCvEngineConfig opencv;
};

struct ModelsConfig {
  std::string storage_path;  // empty: <data_dir>/models
  int max_file_size_mb = 100;
  int validation_memory_mb = 4096;  // address-space limit of the validator child
  int validation_cpu_s = 120;       // CPU-time limit of the validator child
  int validation_timeout_s = 180;   // wall-clock limit of a validation
};

struct RequestConfig {
  int queue_size = 100;
  int workers_per_model = 2;
  int timeout_ms = 5000;
};

struct RateLimitConfig {
  int requests_per_minute = 60;
  int requests_per_month = 10000;
};

struct IpFilterConfig {
  bool enabled = true;
};

struct AuthConfig {
  int token_expiry_days = 30;
  int admin_session_minutes = 60;
  int login_max_failures = 5;
  int login_window_s = 300;
  int password_hash_concurrency = 2;
  RateLimitConfig rate_limit;
  IpFilterConfig ip_filter;
};

struct Config {
  ServerConfig server;
  EnginesConfig engines;
  ModelsConfig models;
  RequestConfig request;
  AuthConfig auth;
};

}  // namespace cinfer
