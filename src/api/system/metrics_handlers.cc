#include "api/system/metrics_handlers.h"

#include <openssl/crypto.h>

#include "common/errors.h"

namespace cinfer::api {
namespace {

bool SameSecret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

void AddMetricsRoute(const Metrics* metrics, std::string token, std::vector<http::Route>& routes) {
  routes.push_back(
      {"GET", "/metrics", http::AuthScope::kPublic,
       [metrics, token = std::move(token)](http::Request& req) -> absl::StatusOr<http::Response> {
         if (metrics == nullptr) return absl::InternalError("no metrics");
         if (!token.empty()) {
           const std::string_view presented = req.Header("authorization").value_or("");
           if (!presented.starts_with("Bearer ") || !SameSecret(presented.substr(7), token)) {
             return MakeError(ErrorCode::kUnauthenticated,
                              "this endpoint needs the metrics scrape token");
           }
         }
         const Metrics::Format format = Metrics::FormatFor(req.Header("accept").value_or(""));
         http::Response r = http::Response::Text(200, std::string(Metrics::ContentType(format)),
                                                 metrics->Render(format));
         r.headers.emplace_back("Cache-Control", "no-store");
         return r;
       }});
}

std::unique_ptr<http::Router> BuildMetricsRouter(Metrics* metrics, std::string token) {
  std::vector<http::Route> routes;
  AddMetricsRoute(metrics, std::move(token), routes);
  // Scrapes carry no body; no authenticators: the token check is the handler's.
  return std::make_unique<http::Router>(std::move(routes),
                                        std::map<http::AuthScope, http::Authenticator*>{},
                                        /*default_max_body_bytes=*/1024, metrics);
}

}  // namespace cinfer::api
