#include "http/router.h"

#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <memory>

#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "http/error_response.h"
#include "spdlog/spdlog.h"

namespace cinfer::http {

namespace {

// Matches pre-split segments (allocation-free unless the pattern has
// parameters); `params` is filled only on a match.
bool MatchSegments(const std::vector<std::string_view>& pat,
                   const std::vector<std::string_view>& segs,
                   std::map<std::string, std::string>* params) {
  const bool rest = !pat.empty() && pat.back().starts_with("{*") && pat.back().ends_with("}");
  if (rest ? segs.size() < pat.size() : segs.size() != pat.size()) return false;
  // Literal segments first: most patterns fail there, before anything is decoded.
  for (size_t i = 0; i < pat.size(); ++i) {
    if (!pat[i].starts_with("{") && pat[i] != segs[i]) return false;
  }
  std::map<std::string, std::string> found;
  for (size_t i = 0; i < pat.size(); ++i) {
    std::string_view p = pat[i];
    if (!p.starts_with("{")) continue;
    if (rest && i + 1 == pat.size()) {
      std::vector<std::string_view> tail(segs.begin() + static_cast<ptrdiff_t>(i), segs.end());
      std::string joined = Join(tail, "/");
      if (joined.empty()) return false;
      found[std::string(p.substr(2, p.size() - 3))] = std::move(joined);
      break;
    }
    if (!p.ends_with("}")) {
      if (p != segs[i]) return false;
      continue;
    }
    std::string decoded;
    if (segs[i].empty() || !PercentDecode(segs[i], false, &decoded)) return false;
    found[std::string(p.substr(1, p.size() - 2))] = std::move(decoded);
  }
  if (params) *params = std::move(found);
  return true;
}

}  // namespace

bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::map<std::string, std::string>* params) {
  return MatchSegments(Split(pattern, '/'), Split(path, '/'), params);
}

Router::Router(std::vector<Route> routes, std::map<AuthScope, Authenticator*> authenticators,
               size_t default_max_body_bytes, Metrics* metrics)
    : routes_(std::move(routes)),
      authenticators_(std::move(authenticators)),
      default_max_body_bytes_(default_max_body_bytes),
      metrics_(metrics) {
  // Views into routes_' own strings, which never change after this.
  segments_.reserve(routes_.size());
  for (const Route& r : routes_) segments_.push_back(Split(r.pattern, '/'));
}

absl::StatusOr<const Route*> Router::Resolve(std::string_view method, std::string_view path,
                                             std::map<std::string, std::string>* params) const {
  const std::vector<std::string_view> segs = Split(path, '/');
  bool path_known = false;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    if (r.fallback) continue;
    if (r.method != method) {  // only whether the path exists matters (405 vs 404)
      if (!path_known && MatchSegments(segments_[i], segs, nullptr)) path_known = true;
      continue;
    }
    if (MatchSegments(segments_[i], segs, params)) return &r;
  }
  if (path_known) {
    return MakeError(ErrorCode::kMethodNotAllowed,
                     StrCat("method ", method, " is not allowed on this path"));
  }
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    if (!r.fallback || r.method != method) continue;
    if (MatchSegments(segments_[i], segs, params)) return &r;
  }
  return NotFoundError("no such route");
}

const Route* Router::Find(std::string_view method, std::string_view path) const {
  auto r = Resolve(method, path, nullptr);
  return r.ok() ? *r : nullptr;
}

size_t Router::BodyLimitOf(const Route* r) const {
  return r != nullptr && r->max_body_bytes > 0 ? r->max_body_bytes : default_max_body_bytes_;
}

absl::Status Router::Admit(Request& request, const Route** route,
                           Authenticator** authenticator) const {
  ASSIGN_OR_RETURN(*route, Resolve(request.method, request.path, &request.path_params));
  const Route& r = **route;
  if (r.scope == AuthScope::kPublic) return absl::OkStatus();
  auto it = authenticators_.find(r.scope);
  if (it == authenticators_.end() || it->second == nullptr) {
    return absl::InternalError("no authenticator for route scope");
  }
  *authenticator = it->second;
  RETURN_IF_ERROR((*authenticator)->Authenticate(request));
  return (*authenticator)->Authorize(request, r);
}

Response Router::Finish(const Request& request, Authenticator* authenticator,
                        absl::StatusOr<Response> result) const {
  Response response;
  if (result.ok()) {
    response = *std::move(result);
  } else {
    if (const int status = HttpStatusFor(result.status()); status >= 500) {
      // The same failure on every request (a full disk) logs about once a second.
      const std::string what = result.status().ToString();
      if (auto suppressed = failures_.Admit(StrCat(status, " ", ErrorCodeOf(result.status()), " ",
                                                   ToStd(result.status().message())))) {
        spdlog::error("request {} {} {} failed: {}{}", request.request_id, request.method,
                      request.path, what,
                      *suppressed > 0 ? StrCat(" (and ", *suppressed, " more like it)") : "");
      }
    }
    response = ErrorResponse(result.status(), request.request_id);
  }
  if (authenticator != nullptr) authenticator->Decorate(request, response);
  return response;
}

std::function<void(Response)> Router::Measured(const Route* route, const Request& request,
                                               std::chrono::steady_clock::time_point t0,
                                               std::function<void(Response)> done) const {
  // Routes live as long as the router: the pattern is not copied.
  const std::string_view pattern =
      route != nullptr ? std::string_view(route->pattern) : std::string_view("unmatched");
  return [this, pattern, method = request.method, t0, done = std::move(done)](Response response) {
    metrics_->HttpRequest(
        pattern, method, response.status,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    done(std::move(response));
  };
}

void Router::HandleAsync(Request& request, std::function<void(Response)> done) const {
  const auto t0 = std::chrono::steady_clock::now();
  const Route* route = nullptr;
  Authenticator* authenticator = nullptr;
  absl::Status admitted = Admit(request, &route, &authenticator);
  if (metrics_ != nullptr) done = Measured(route, request, t0, std::move(done));
  if (!admitted.ok() || !route->async_handler) {
    absl::StatusOr<Response> result = absl::InternalError("route without a handler");
    if (!admitted.ok()) {
      result = admitted;
    } else if (route->handler) {
      try {
        result = route->handler(request);
      } catch (const std::exception& e) {
        result = absl::InternalError(StrCat("unhandled exception: ", e.what()));
      }
    }
    done(Finish(request, authenticator, std::move(result)));
    return;
  }
  auto answered = std::make_shared<std::atomic<bool>>(false);
  Respond respond = [this, &request, authenticator, done = std::move(done),
                     answered](absl::StatusOr<Response> result) {
    if (answered->exchange(true)) return;
    done(Finish(request, authenticator, std::move(result)));
  };
  try {
    route->async_handler(request, respond);
  } catch (const std::exception& e) {
    respond(absl::InternalError(StrCat("unhandled exception: ", e.what())));
  }
}

Response Router::Handle(Request& request) const {
  std::promise<Response> promise;
  std::future<Response> response = promise.get_future();
  HandleAsync(request, [&promise](Response r) { promise.set_value(std::move(r)); });
  return response.get();
}

}  // namespace cinfer::http
