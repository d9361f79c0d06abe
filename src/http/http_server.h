// HttpServer: the Beast/Asio transport. Accepts HTTP/1.1 (optionally TLS)
// connections, enforces header/body limits, read/idle timeouts and admission
// bounds (connections; application-API requests and body bytes in flight),
// hands each request to the Router and writes the response, with one access
// line per request. Asynchronous routes (Route::async_handler) start on the
// network thread (small bodies) or the work pool and are resumed on the
// connection's strand when they answer, so no thread waits for them;
// synchronous routes run on a handler pool (network threads never run them;
// application-API routes have a pool of their own, so health and admin
// requests never wait behind them). SIGINT/SIGTERM start a graceful shutdown:
// requests read from then on are answered 503 SHUTTING_DOWN, in-flight ones
// finish, then Run returns. Create/Run/Shutdown are thread-safe; the Router
// must outlive the server.
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
    // The network threads' nice value (0-19; 0 leaves them as started). Above
    // 0, threads that run engines (started elsewhere, at the start priority)
    // win the CPU from them when both want it: under a retry storm the
    // refusals no longer take the cores from admitted requests. Threads the
    // io threads start inherit it; the handler pools start before Run.
    int io_nice = 0;
    int handler_threads = 4;  // public and admin routes
    int work_threads = 4;     // application-API (AuthScope::kApiToken) routes
    int long_threads = 4;     // Route::long_running routes (model loads, drains)
    // Admission: open connections (beyond: the next one is answered 503 QUEUE_FULL
    // and closed), and application-API requests in flight and their body bytes
    // (beyond: 503 QUEUE_FULL with Retry-After, before the body is read). Health,
    // console and admin routes are not counted, so they answer while inference is saturated.
    size_t max_connections = 1024;
    size_t max_app_in_flight = 512;
    size_t max_app_in_flight_bytes = 512u << 20;
    size_t max_header_bytes = 16 * 1024;
    std::chrono::seconds read_timeout{30};  // header, body and write deadlines
    std::chrono::seconds idle_timeout{60};  // between keep-alive requests
    std::chrono::seconds shutdown_timeout{30};
    bool access_log = true;
    bool json_logs = false;  // server.log_format: json (access lines as fields)
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
