// HttpServer: the Beast/Asio transport. Accepts HTTP/1.1 (optionally TLS)
// connections, enforces header/body limits and read/idle timeouts, hands each
// request to the Router on a handler thread pool (network threads never run
// handlers; application-API routes have a pool of their own, so health and
// admin requests never wait behind decoding and inference), writes the response, and logs one
// access line per request. SIGINT/SIGTERM start a graceful shutdown: stop accepting, finish
// in-flight requests (those whose header has been read), then return from Run.
// Create/Run/Shutdown are thread-safe; the Router must outlive the server.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "http/router.h"
#include "net/ip_address.h"

namespace cinfer::http {

class HttpServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 8000;  // 0 picks a free port
    int io_threads = 2;
    int handler_threads = 4;  // public and admin routes
    int work_threads = 4;     // application-API (AuthScope::kApiToken) routes
    size_t max_header_bytes = 16 * 1024;
    std::chrono::seconds read_timeout{30};  // header, body and write deadlines
    std::chrono::seconds idle_timeout{60};  // between keep-alive requests
    std::chrono::seconds shutdown_timeout{30};
    bool access_log = true;
    bool handle_signals = true;
    std::string tls_cert_file;  // both set: HTTPS
    std::string tls_key_file;
    std::string upload_dir;  // where body_to_file routes spool bodies (must exist)
    // Peers whose X-Forwarded-For / X-Real-IP name the client (Request::client_ip).
    net::IpSet trusted_proxies;
    // Called once when a graceful shutdown reaches `shutdown_timeout` with requests
    // still in flight: it should make them finish now (fail queued inferences);
    // their responses are then written for up to 0.5 s before the loop stops.
    std::function<void()> on_drain_timeout;
  };

  // Binds the listening socket (so port() is known before Run).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(const Options& options,
                                                            const Router* router);
  ~HttpServer();

  // What a configuration change may replace while serving; each request
  // reads one snapshot of it when it starts.
  struct LiveSettings {
    bool access_log = true;
    net::IpSet trusted_proxies;
  };
  void UpdateLiveSettings(LiveSettings settings);

  int port() const;
  // Serves until a graceful shutdown completes.
  absl::Status Run();
  // Starts a graceful shutdown; returns at once.
  void Shutdown();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A client-supplied request id is echoed only when it is 1..128 characters
// of [A-Za-z0-9._-].
bool IsSaneRequestId(std::string_view id);

}  // namespace cinfer::http
