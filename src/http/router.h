// Router: the declarative route table {method, path pattern, auth scope, body
// limit, handler}. Authentication is a routing stage: a route's scope names the
// Authenticator that must accept the request before its handler runs.
// Patterns are literal segments, "{name}" (one segment) and a trailing
// "{*name}" (the rest of the path). Immutable after construction; thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/repeat_filter.h"
#include "http/request.h"
#include "metrics/metrics.h"

namespace cinfer::http {

enum class AuthScope { kPublic, kAdmin, kApiToken };

struct Route;

// Verifies the credentials of a request for one scope and records who made it
// in request.identity. Implementations must be thread-safe.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual absl::Status Authenticate(Request& request) = 0;
  // After a successful Authenticate: may `request` use `route`? (e.g. the
  // route's permission against the caller's role). 403 on refusal.
  virtual absl::Status Authorize(const Request& /*request*/, const Route& /*route*/) {
    return absl::OkStatus();
  }
  // Called with every response of the scope's routes, after the handler or
  // after a refused authentication: adds headers (e.g. rate-limit state).
  virtual void Decorate(const Request& /*request*/, Response& /*response*/) {}
};

using Handler = std::function<absl::StatusOr<Response>(Request&)>;
// Answers an asynchronous route: call exactly once, from any thread (later
// calls are ignored). The Request stays alive until it is called.
using Respond = std::function<void(absl::StatusOr<Response>)>;
// An asynchronous handler returns at once and answers through `respond`, so
// no thread waits for slow work (an inference) to finish.
using AsyncHandler = std::function<void(Request&, Respond)>;

struct Route {
  std::string method;
  std::string pattern;
  AuthScope scope = AuthScope::kPublic;
  Handler handler;
  size_t max_body_bytes = 0;  // 0: the router's default limit
  // Uploads: the transport streams the body to a temporary file (request.body_file)
  // instead of memory; the file is removed after the handler unless it moved it.
  bool body_to_file = false;
  // Matched only when no other route matches the path (the web console's
  // client-side routes); never turns an unknown path into METHOD_NOT_ALLOWED.
  // Not part of the API contract, so `cinfer routes` leaves it out.
  bool fallback = false;
  // What the caller must be allowed, checked by the scope's Authorizer; opaque
  // to the router (admin routes: the least role, "viewer" | "operator" | "admin").
  std::string permission = {};
  // Set instead of `handler` for asynchronous routes.
  AsyncHandler async_handler = {};
  // The handler may take seconds (a model load, validation, a drain): it runs on a
  // pool of its own, so it never holds the threads of logins and other admin calls.
  bool long_running = false;
};

class Router {
 public:
  // Every answer is counted in `metrics` (null: not measured) by route
  // pattern ("unmatched" when no route matched), method and status.
  Router(std::vector<Route> routes, std::map<AuthScope, Authenticator*> authenticators,
         size_t default_max_body_bytes, Metrics* metrics = nullptr);

  // The route for method + path; NotFound / METHOD_NOT_ALLOWED otherwise.
  absl::StatusOr<const Route*> Resolve(std::string_view method, std::string_view path,
                                       std::map<std::string, std::string>* params) const;
  // The route for a request line, or nullptr.
  const Route* Find(std::string_view method, std::string_view path) const;
  // The body limit for a route Find returned (nullptr, unrouted: the default).
  size_t BodyLimitOf(const Route* route) const;
  // Resolves, authenticates and runs the handler; errors become error responses.
  // Waits for an asynchronous route's answer.
  Response Handle(Request& request) const;
  // The same without waiting: `done` gets the response exactly once, on the
  // calling thread (synchronous routes, refusals) or on whichever thread the
  // asynchronous handler answers from. `request` must live until then.
  void HandleAsync(Request& request, std::function<void(Response)> done) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  // Resolves, authenticates and authorizes: the route, and its scope's
  // authenticator (null for public routes or when resolving failed).
  absl::Status Admit(Request& request, const Route** route, Authenticator** authenticator) const;
  // Error responses (5xx logged, repeated ones filtered) and the scope's headers.
  Response Finish(const Request& request, Authenticator* authenticator,
                  absl::StatusOr<Response> result) const;

  // `done`, counting the answer in metrics_ under the route's pattern.
  std::function<void(Response)> Measured(const Route* route, const Request& request,
                                         std::chrono::steady_clock::time_point t0,
                                         std::function<void(Response)> done) const;

  std::vector<Route> routes_;
  std::vector<std::vector<std::string_view>> segments_;  // routes_[i].pattern split at '/'
  std::map<AuthScope, Authenticator*> authenticators_;
  mutable RepeatFilter failures_;  // 5xx log lines
  size_t default_max_body_bytes_;
  Metrics* metrics_;  // null: not measured
};

// True when `path` matches `pattern`, filling `params`.
bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::map<std::string, std::string>* params);

}  // namespace cinfer::http
