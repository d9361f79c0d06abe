#include "http/http_server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <limits>
#include <optional>
#include <thread>
#include <vector>

#include "common/errors.h"
#include "common/live_value.h"
#include "common/mutex.h"
#include "common/random.h"
#include "common/strings.h"
#include "common/thread_name.h"
#include "common/thread_priority.h"
#include "http/access_log.h"
#include "http/connection_io.h"
#include "http/error_response.h"
#include "http/framing.h"
#include "spdlog/spdlog.h"

namespace cinfer::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using StringParser = bhttp::request_parser<bhttp::string_body>;

// Asynchronous routes start on the network thread up to this body size.
constexpr size_t kInlineBodyBytes = 256 * 1024;

// A connection whose coroutine threw (out of memory while reading a body, ...)
// is closed and logged; the server keeps serving.
void LogSessionFailure(std::exception_ptr failure) {
  if (failure == nullptr) return;
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    spdlog::error("connection closed after an exception: {}", e.what());
  } catch (...) {
    spdlog::error("connection closed after a non-standard exception");
  }
}

absl::Status QueueFull(std::string message) {
  return WithRetryAfter(MakeError(ErrorCode::kQueueFull, std::move(message)), 1);
}

using connection_io::Drain;
using connection_io::Ec;
using connection_io::ReadBody;
using connection_io::ReadHeaderBlock;

// Counts a request as in flight from its header until its response is written.
class InFlight {
 public:
  explicit InFlight(std::atomic<int>& n) : n_(n) { ++n_; }
  ~InFlight() { --n_; }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  std::atomic<int>& n_;
};

std::string PeerAddress(const tcp::socket& sock) {
  error_code ec;
  auto ep = sock.remote_endpoint(ec);
  if (ec) return "unknown";
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()).to_string();
  }
  return addr.to_string();
}

// Removes a spooled request body unless the handler moved it away.
class SpoolFile {
 public:
  SpoolFile() = default;
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;
  ~SpoolFile() { Remove(); }
  void Remove() {
    if (!path.empty()) ::unlink(path.c_str());
    path.clear();
  }
  std::string path;
};

template <class Body>
Request ToRequest(bhttp::request<Body>&& msg, const std::string& peer, std::string request_id,
                  const net::IpSet& trusted_proxies) {
  Request req;
  req.method = std::string(msg.method_string());
  std::string_view target = msg.target();
  size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) req.query = ParseQuery(target.substr(q + 1));
  for (const auto& field : msg) {
    req.headers[ToLower(std::string_view(field.name_string()))] = std::string(field.value());
  }
  if constexpr (std::is_same_v<Body, bhttp::string_body>) req.body = std::move(msg.body());
  req.client_ip = trusted_proxies.empty()
                      ? peer
                      : net::ResolveClientIp(peer, req.Header("x-forwarded-for"),
                                             req.Header("x-real-ip"), trusted_proxies);
  req.request_id = std::move(request_id);
  return req;
}

}  // namespace

bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

struct HttpServer::Impl {
  Options opts;
  const Router* router;
  asio::io_context ioc;
  asio::thread_pool handlers;       // public and admin routes
  asio::thread_pool work_handlers;  // application-API routes (decoding, inference)
  asio::thread_pool long_handlers;  // long-running routes (model loads, validation, drains)
  std::optional<asio::ssl::context> tls;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  std::atomic<int> in_flight{0};
  std::atomic<size_t> connections{0};
  // Asynchronous requests not yet answered: Run waits for them after the loop
  // stops, so no answer is posted to a destroyed io_context.
  Mutex async_mu;
  CondVar async_cv;  // signalled when async_pending drops to 0
  size_t async_pending ABSL_GUARDED_BY(async_mu) = 0;
  std::atomic<size_t> app_in_flight{0};  // application-API requests (admission)
  std::atomic<size_t> app_bytes{0};      // and their declared body bytes
  // One admitted application-API request; gives its share back when destroyed.
  struct AppSlot {
    Impl* s = nullptr;
    size_t bytes = 0;
    AppSlot() = default;
    AppSlot(const AppSlot&) = delete;
    AppSlot& operator=(const AppSlot&) = delete;
    ~AppSlot() {
      if (s == nullptr) return;
      s->app_in_flight.fetch_sub(1);
      s->app_bytes.fetch_sub(bytes);
    }
  };
  // False (nothing taken) when one more request of `bytes` would pass a bound.
  bool Admit(AppSlot& slot, size_t bytes) {
    if (app_in_flight.fetch_add(1) >= opts.max_app_in_flight) {
      app_in_flight.fetch_sub(1);
      return false;
    }
    if (app_bytes.fetch_add(bytes) + bytes > opts.max_app_in_flight_bytes && bytes > 0) {
      app_bytes.fetch_sub(bytes);
      app_in_flight.fetch_sub(1);
      return false;
    }
    slot.s = this;
    slot.bytes = bytes;
    return true;
  }
  std::atomic<bool> stopping{false};  // draining: requests read from now on get 503
  LiveValue<LiveSettings> live;
  mutable IdSequence request_ids;  // X-Request-ID when the client sent none

  Impl(const Options& o, const Router* r)
      : opts(o),
        router(r),
        ioc(o.io_threads),
        handlers(static_cast<size_t>(o.handler_threads)),
        work_handlers(static_cast<size_t>(o.work_threads)),
        long_handlers(static_cast<size_t>(o.long_threads)),
        acceptor(asio::make_strand(ioc)),  // Listen and the close share this strand
        signals(ioc),
        live(LiveSettings{o.access_log, o.trusted_proxies}) {}

  asio::awaitable<void> Listen();
  template <class Stream>
  asio::awaitable<void> Session(Stream stream, std::string client_ip);
  template <class Stream>
  asio::awaitable<bool> ServeOne(Stream& stream, beast::flat_buffer& buffer,
                                 const std::string& client_ip, bool first,
                                 bool too_many_connections = false);
  // What ServeOne learns about one request. It lives until ServeOne returns (after
  // the response and any drain); its members go in reverse order: the admission
  // slot first, then the spool file.
  struct Exchange {
    std::string request_id;
    std::optional<absl::Status> refused;
    std::string method = "-", path = "-";
    SpoolFile spool;
    std::shared_ptr<const LiveSettings> settings;  // one per request
    std::optional<Request> request;
    const Route* route = nullptr;
    AppSlot admitted;
    bool broken = false;
  };
  // The refusal a request's header earns (malformed, bad framing, too many
  // connections, shutting down), if any; sets *request_id.
  std::optional<absl::Status> Screen(const error_code& ec, const StringParser& parser,
                                     const std::string& block, bool too_many_connections,
                                     std::string* request_id) const;
  // Routes an accepted header, admits it and reads its body into x.request, or
  // sets x.refused (413, 503, a malformed body) or x.broken.
  template <class Stream>
  asio::awaitable<void> ReadRequest(Stream& stream, beast::flat_buffer& buffer,
                                    StringParser& parser, const std::string& client_ip,
                                    Exchange& x);
  // The handler's answer: an async route's (HandleAsync), or a sync route's on its pool.
  asio::awaitable<Response> Dispatch(const Route* route, Request& request);
  // The access-log line of an answered exchange (text or JSON fields).
  void LogExchange(const Exchange& x, std::string_view client_ip, int status, size_t bytes,
                   std::chrono::steady_clock::time_point start) const;
  asio::awaitable<void> WaitForDrain();
  // An asynchronous route: its handler starts on this (network) thread when the
  // body is small (parsing it is cheap; the slow work is queued elsewhere), on
  // the work pool otherwise; the answer resumes the connection on its strand.
  asio::awaitable<Response> HandleAsync(Request& request);
  void BeginShutdown();
  bhttp::response<bhttp::string_body> ToBeast(Response&& r, const std::string& request_id,
                                              bool keep_alive) const;
};

bhttp::response<bhttp::string_body> HttpServer::Impl::ToBeast(Response&& r,
                                                              const std::string& request_id,
                                                              bool keep_alive) const {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), 11};
  res.set(bhttp::field::server, "cinfer");
  if (!r.content_type.empty()) res.set(bhttp::field::content_type, r.content_type);
  res.set("X-Request-ID", request_id);
  for (auto& [k, v] : r.headers) res.set(k, v);
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive && !stopping);
  res.prepare_payload();
  return res;
}

std::optional<absl::Status> HttpServer::Impl::Screen(const error_code& ec,
                                                     const StringParser& parser,
                                                     const std::string& block,
                                                     bool too_many_connections,
                                                     std::string* request_id) const {
  if (ec) {
    *request_id = request_ids.NextHex();
    return ec == bhttp::error::header_limit
               ? MakeError(ErrorCode::kHeadersTooLarge, "request headers too large")
               : MakeError(ErrorCode::kBadRequest,
                           StrCat("malformed HTTP request: ", ec.message()));
  }
  auto rid = parser.get()["X-Request-ID"];
  *request_id = IsSaneRequestId(rid) ? std::string(rid) : request_ids.NextHex();
  if (absl::Status framing = CheckRequestFraming(parser.get(), block); !framing.ok()) {
    return framing;
  }
  if (too_many_connections) {
    return QueueFull(StrCat("too many open connections (", opts.max_connections, ")"));
  }
  if (stopping) {
    // Read after the shutdown began (a connection still in the accept backlog, or a
    // keep-alive request racing the signal): refused, never dropped.
    return WithRetryAfter(MakeError(ErrorCode::kShuttingDown, "the server is shutting down"), 1);
  }
  return std::nullopt;
}

template <class Stream>
asio::awaitable<void> HttpServer::Impl::ReadRequest(Stream& stream, beast::flat_buffer& buffer,
                                                    StringParser& parser,
                                                    const std::string& client_ip, Exchange& x) {
  x.method = std::string(parser.get().method_string());
  std::string_view target = parser.get().target();
  x.path = std::string(target.substr(0, target.find('?')));
  x.route = router->Find(x.method, x.path);
  const size_t limit = router->BodyLimitOf(x.route);
  const auto declared = parser.content_length();
  if (declared && *declared > limit) {
    x.refused = PayloadTooLargeError(StrCat("request body exceeds ", limit, " bytes"));
  } else if (x.route != nullptr && x.route->scope == AuthScope::kApiToken &&
             !Admit(x.admitted, declared.value_or(0))) {
    x.refused = QueueFull(StrCat("the server is at its limit of ", opts.max_app_in_flight,
                                 " inference requests or ", opts.max_app_in_flight_bytes >> 20,
                                 " MiB of their bodies in flight"));
  } else if (x.route != nullptr && x.route->body_to_file) {
    const std::string spool_path = StrCat(opts.upload_dir, "/body-", RandomHex(12));
    bhttp::request_parser<bhttp::file_body> file_parser(std::move(parser));
    error_code ec;
    file_parser.get().body().open(spool_path.c_str(), beast::file_mode::write_new, ec);
    if (ec) {
      x.refused = absl::InternalError(StrCat("cannot spool upload: ", ec.message()));
    } else {
      x.spool.path = spool_path;
      x.refused =
          co_await ReadBody(stream, buffer, file_parser, limit, opts.read_timeout, &x.broken);
      if (!x.refused && !x.broken) {
        file_parser.get().body().close();
        x.request =
            ToRequest(file_parser.release(), client_ip, x.request_id, x.settings->trusted_proxies);
        x.request->body_file = spool_path;
      }
    }
  } else {
    x.refused = co_await ReadBody(stream, buffer, parser, limit, opts.read_timeout, &x.broken);
    if (!x.refused && !x.broken) {
      x.request = ToRequest(parser.release(), client_ip, x.request_id, x.settings->trusted_proxies);
    }
  }
}

asio::awaitable<Response> HttpServer::Impl::Dispatch(const Route* route, Request& request) {
  if (route != nullptr && route->async_handler) return HandleAsync(request);
  // Application-API requests run on their own pool, so health checks and admin
  // requests never queue behind them.
  asio::thread_pool& pool = route == nullptr                       ? handlers
                            : route->long_running                  ? long_handlers
                            : route->scope == AuthScope::kApiToken ? work_handlers
                                                                   : handlers;
  return asio::co_spawn(
      pool, [this, &request]() -> asio::awaitable<Response> { co_return router->Handle(request); },
      asio::use_awaitable);
}

void HttpServer::Impl::LogExchange(const Exchange& x, std::string_view client_ip, int status,
                                   size_t bytes,
                                   std::chrono::steady_clock::time_point start) const {
  LogAccess(
      {.client_ip = client_ip,
       .method = x.method,
       .path = x.path,
       .route = x.route != nullptr ? std::string_view(x.route->pattern) : "",
       .request_id = x.request_id,
       .status = status,
       .bytes = bytes,
       .ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                 .count(),
       .fields = x.request ? &x.request->log_fields : nullptr},
      opts.json_logs);
}

template <class Stream>
asio::awaitable<bool> HttpServer::Impl::ServeOne(Stream& stream, beast::flat_buffer& buffer,
                                                 const std::string& client_ip, bool first,
                                                 bool too_many_connections) {
  error_code ec;
  StringParser parser;
  parser.header_limit(static_cast<uint32_t>(opts.max_header_bytes));
  // The route's limit is applied once the header is known. (Not boost::none: Beast 1.74
  // compares Content-Length against the optional and rejects any non-empty body then.)
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  beast::get_lowest_layer(stream).expires_after(first ? opts.read_timeout : opts.idle_timeout);
  const size_t block_end = co_await ReadHeaderBlock(stream, buffer, opts.max_header_bytes, ec);
  if (ec) co_return false;  // closed, reset or timed out: nobody to answer
  const std::string block(static_cast<const char*>(buffer.data().data()),
                          std::min(block_end, buffer.size()));
  co_await bhttp::async_read_header(stream, buffer, parser, Ec(ec));
  if (ec && (ec.category() != bhttp::make_error_code(bhttp::error::bad_target).category() ||
             ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message)) {
    co_return false;  // closed, reset or timed out: nobody to answer
  }
  InFlight guard(in_flight);
  const auto start = std::chrono::steady_clock::now();
  Exchange x;
  x.refused = Screen(ec, parser, block, too_many_connections, &x.request_id);
  const bool client_keep_alive = !ec && parser.get().keep_alive();
  x.settings = live.Get();
  if (!x.refused) co_await ReadRequest(stream, buffer, parser, client_ip, x);
  if (x.broken) co_return false;  // the spool file, if any, is removed
  Response response;
  const bool keep_alive = !x.refused && client_keep_alive;
  std::string logged_ip = client_ip;
  if (x.refused) {
    response = ErrorResponse(*x.refused, x.request_id);
  } else {
    if (x.request->client_ip != client_ip) {
      logged_ip = StrCat(x.request->client_ip, " via ", client_ip);
    }
    response = co_await Dispatch(x.route, *x.request);
    x.spool.Remove();  // before answering, so a client never sees it linger
  }
  const int status = response.status;
  auto res = ToBeast(std::move(response), x.request_id, keep_alive);
  const size_t bytes = res.body().size();
  beast::get_lowest_layer(stream).expires_after(opts.read_timeout);
  co_await bhttp::async_write(stream, res, Ec(ec));
  if (x.settings->access_log) LogExchange(x, logged_ip, status, bytes, start);
  if (!ec && x.refused) co_await Drain(stream);
  co_return !ec && res.keep_alive();
}

template <class Stream>
asio::awaitable<void> HttpServer::Impl::Session(Stream stream, std::string client_ip) {
  error_code ec;
  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    beast::get_lowest_layer(stream).expires_after(opts.read_timeout);
    co_await stream.async_handshake(asio::ssl::stream_base::server, Ec(ec));
    if (ec) co_return;
  }
  beast::flat_buffer buffer;
  bool first = true;
  // Past max_connections the connection's first request is answered 503 and it closes.
  struct Counted {
    std::atomic<size_t>& n;
    ~Counted() { n.fetch_sub(1); }
  } counted{connections};
  const bool too_many = connections.fetch_add(1) >= opts.max_connections;
  do {  // at least one request: during the drain it is answered 503 SHUTTING_DOWN
    if (!co_await ServeOne(stream, buffer, client_ip, first, too_many)) break;
    first = false;
  } while (!stopping && !too_many);
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  } else {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(Ec(ec));
  }
}

asio::awaitable<void> HttpServer::Impl::Listen() {
  // Accepts until WaitForDrain closes the acceptor: during the drain, new
  // connections are answered 503 SHUTTING_DOWN rather than reset.
  while (acceptor.is_open()) {
    tcp::socket sock(asio::make_strand(ioc));
    error_code ec;
    co_await acceptor.async_accept(sock, Ec(ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer pause(ioc, std::chrono::milliseconds(100));
      co_await pause.async_wait(Ec(ec));
      continue;
    }
    std::string ip = PeerAddress(sock);
    auto ex = sock.get_executor();
    if (tls) {
      asio::co_spawn(ex, Session(beast::ssl_stream<beast::tcp_stream>(std::move(sock), *tls), ip),
                     LogSessionFailure);
    } else {
      asio::co_spawn(ex, Session(beast::tcp_stream(std::move(sock)), ip), LogSessionFailure);
    }
  }
}

asio::awaitable<Response> HttpServer::Impl::HandleAsync(Request& request) {
  const bool inline_start = request.body.size() <= kInlineBodyBytes;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Response)>(
      [this, &request, inline_start](auto handler) {
        // Beast/Asio completion handlers are move-only; std::function copies.
        auto resume = std::make_shared<decltype(handler)>(std::move(handler));
        {
          MutexLock lock(&async_mu);
          ++async_pending;
        }
        auto start = [this, &request, resume] {
          router->HandleAsync(request, [this, resume](Response r) mutable {
            auto ex = asio::get_associated_executor(*resume);
            asio::post(ex, [resume, r = std::move(r)]() mutable { (*resume)(std::move(r)); });
            resume.reset();  // the posted operation owns the coroutine now
            MutexLock lock(&async_mu);
            if (--async_pending == 0) async_cv.SignalAll();
          });
        };
        if (inline_start) {
          start();
        } else {
          asio::post(work_handlers, std::move(start));
        }
      },
      asio::use_awaitable);
}

asio::awaitable<void> HttpServer::Impl::WaitForDrain() {
  const auto deadline = std::chrono::steady_clock::now() + opts.shutdown_timeout;
  asio::steady_timer timer(ioc);
  auto wait_until = [&](std::chrono::steady_clock::time_point until) -> asio::awaitable<void> {
    while (in_flight > 0 && std::chrono::steady_clock::now() < until) {
      timer.expires_after(std::chrono::milliseconds(10));
      error_code ec;
      co_await timer.async_wait(Ec(ec));
    }
  };
  co_await wait_until(deadline);
  if (in_flight > 0 && opts.on_drain_timeout) {
    spdlog::warn("shutdown timeout: {} request(s) in flight; failing queued work",
                 in_flight.load());
    opts.on_drain_timeout();
    co_await wait_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(450));
  }
  if (in_flight > 0) spdlog::warn("shutdown timeout: abandoning {} request(s)", in_flight.load());
  co_await asio::post(acceptor.get_executor(), asio::use_awaitable);  // the acceptor's strand
  error_code ec;
  acceptor.close(ec);
  ioc.stop();
}

void HttpServer::Impl::BeginShutdown() {
  if (stopping.exchange(true)) return;
  error_code ec;
  signals.cancel(ec);
  spdlog::info("shutting down: finishing {} in-flight request(s)", in_flight.load());
  asio::co_spawn(ioc, WaitForDrain(), asio::detached);
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() {
  impl_->ioc.stop();
  impl_->handlers.join();
  impl_->work_handlers.join();
  impl_->long_handlers.join();
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(const Options& options,
                                                               const Router* router) {
  auto impl = std::make_unique<Impl>(options, router);
  error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) return absl::InvalidArgumentError(StrCat("bad listen address '", options.host, "'"));
  tcp::endpoint ep(address, static_cast<unsigned short>(options.port));
  auto& acc = impl->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        StrCat("cannot listen on ", options.host, ":", options.port, ": ", ec.message()));
  }
  if (!options.tls_cert_file.empty()) {
    impl->tls.emplace(asio::ssl::context::tls_server);
    impl->tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1);
    impl->tls->use_certificate_chain_file(options.tls_cert_file, ec);
    if (!ec) impl->tls->use_private_key_file(options.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) return absl::InvalidArgumentError(StrCat("TLS setup failed: ", ec.message()));
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::UpdateLiveSettings(LiveSettings settings) { impl_->live.Set(std::move(settings)); }

int HttpServer::port() const {
  error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

absl::Status HttpServer::Run() {
  Impl& s = *impl_;
  if (s.opts.handle_signals) {
    s.signals.add(SIGINT);
    s.signals.add(SIGTERM);
    s.signals.async_wait([&s](const error_code& ec, int sig) {
      if (ec) return;
      spdlog::info("received signal {}", sig);
      s.BeginShutdown();
    });
  }
  asio::co_spawn(s.acceptor.get_executor(), s.Listen(), asio::detached);
  std::vector<std::thread> threads;
  auto serve = [&s](bool name) {
    if (name) SetCurrentThreadName("http-io");
    if (!LowerThisThreadsPriority(s.opts.io_nice)) spdlog::warn("io_nice refused: errno {}", errno);
    s.ioc.run();
  };
  for (int i = 1; i < s.opts.io_threads; ++i) threads.emplace_back(serve, true);
  serve(false);  // the calling thread serves too
  for (auto& t : threads) t.join();
  {  // answers still on their way (engine calls past the shutdown limit)
    MutexLock lock(&s.async_mu);
    if (s.async_pending > 0) {
      spdlog::warn("waiting for {} asynchronous request(s) to finish", s.async_pending);
    }
    while (s.async_pending != 0) s.async_cv.Wait(&s.async_mu);
  }
  s.handlers.join();
  s.work_handlers.join();
  s.long_handlers.join();
  return absl::OkStatus();
}

void HttpServer::Shutdown() {
  asio::post(impl_->ioc, [impl = impl_.get()] { impl->BeginShutdown(); });
}

}  // namespace cinfer::http
