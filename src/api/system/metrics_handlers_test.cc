// GET /metrics at handler level: the real route, Router and Metrics, no socket.
#include "api/system/metrics_handlers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nlohmann/json.hpp"

namespace cinfer::api {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class MetricsHandlersTest : public ::testing::Test {
 protected:
  http::Router& RouterWith(std::string token) {
    std::vector<http::Route> routes;
    AddMetricsRoute(&metrics_, std::move(token), routes);
    router_ = std::make_unique<http::Router>(
        std::move(routes), std::map<http::AuthScope, http::Authenticator*>{}, 1 << 20, &metrics_);
    return *router_;
  }
  http::Response Get(std::map<std::string, std::string> headers = {}) {
    http::Request req;
    req.method = "GET";
    req.path = "/metrics";
    req.request_id = "r1";
    req.headers = std::move(headers);
    return router_->Handle(req);
  }
  std::string ErrorCode(const http::Response& r) {
    return nlohmann::json::parse(r.body)["error"]["code"].get<std::string>();
  }

  Metrics metrics_;
  std::unique_ptr<http::Router> router_;
};

TEST_F(MetricsHandlersTest, ServesThePrometheusTextAndCountsItsOwnScrapes) {
  RouterWith("");
  ASSERT_EQ(Get().status, 200);
  const http::Response r = Get();
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.content_type, StartsWith("text/plain; version=0.0.4"));
  // The first scrape was counted when it answered.
  EXPECT_THAT(r.body, HasSubstr("cinfer_http_requests_total{method=\"GET\",route=\"/metrics\","
                                "status=\"200\"} 1\n"));
}

TEST_F(MetricsHandlersTest, OpenMetricsWhenTheAcceptHeaderAsks) {
  RouterWith("");
  const http::Response r = Get({{"accept", "application/openmetrics-text; version=1.0.0"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.content_type, StartsWith("application/openmetrics-text"));
  EXPECT_THAT(r.body, EndsWith("# EOF\n"));
}

TEST_F(MetricsHandlersTest, AScrapeTokenIsRequiredWhenConfigured) {
  RouterWith("s3cret-scrape-token");
  http::Response r = Get();
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(ErrorCode(r), "UNAUTHENTICATED");
  r = Get({{"authorization", "Bearer s3cret-scrape-tokeX"}});
  EXPECT_EQ(r.status, 401);
  r = Get({{"authorization", "s3cret-scrape-token"}});  // no scheme
  EXPECT_EQ(r.status, 401);
  r = Get({{"authorization", "Bearer s3cret-scrape-token"}});
  EXPECT_EQ(r.status, 200);
  // The refusals were counted, under the route's template.
  EXPECT_THAT(r.body, HasSubstr("route=\"/metrics\",status=\"401\"} 3\n"));
}

http::Request MakeRequest(std::string method, std::string path,
                          std::map<std::string, std::string> headers = {}) {
  http::Request req;
  req.method = std::move(method);
  req.path = std::move(path);
  req.request_id = "r2";
  req.headers = std::move(headers);
  return req;
}

TEST(MetricsRouterTest, ServesOnlyTheMetricsRoute) {
  Metrics metrics;
  std::unique_ptr<http::Router> router = BuildMetricsRouter(&metrics, "");
  ASSERT_EQ(router->routes().size(), 1u);
  for (const char* path : {"/health/live", "/", "/api/v1/models", "/metrics/x"}) {
    http::Request req = MakeRequest("GET", path);
    const http::Response r = router->Handle(req);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_THAT(r.content_type, HasSubstr("json")) << path;
    EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["code"], "NOT_FOUND") << path;
  }
  http::Request post = MakeRequest("POST", "/metrics");
  EXPECT_EQ(router->Handle(post).status, 405);
  http::Request get = MakeRequest("GET", "/metrics");
  const http::Response r = router->Handle(get);
  ASSERT_EQ(r.status, 200);
  // Its answers are counted like the main router's.
  EXPECT_THAT(r.body, HasSubstr("route=\"unmatched\",status=\"404\"} 4\n"));
  EXPECT_THAT(r.body, HasSubstr("route=\"unmatched\",status=\"405\"} 1\n"));
}

TEST(MetricsRouterTest, KeepsTheScrapeToken) {
  Metrics metrics;
  std::unique_ptr<http::Router> router = BuildMetricsRouter(&metrics, "listener-token");
  http::Request bare = MakeRequest("GET", "/metrics");
  EXPECT_EQ(router->Handle(bare).status, 401);
  http::Request wrong = MakeRequest("GET", "/metrics", {{"authorization", "Bearer other"}});
  EXPECT_EQ(router->Handle(wrong).status, 401);
  http::Request good = MakeRequest("GET", "/metrics", {{"authorization", "Bearer listener-token"}});
  EXPECT_EQ(router->Handle(good).status, 200);
}

}  // namespace
}  // namespace cinfer::api
