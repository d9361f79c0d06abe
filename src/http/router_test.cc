#include "http/router.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "common/errors.h"
#include "nlohmann/json.hpp"

namespace cinfer::http {
namespace {

class FakeAuthenticator : public Authenticator {
 public:
  absl::Status Authenticate(Request& request) override {
    if (request.Header("authorization") != std::optional<std::string_view>("good")) {
      return UnauthenticatedError("bad credentials");
    }
    request.identity = std::string("alice");
    return absl::OkStatus();
  }
};

Handler Echo(std::string what) {
  return [what](Request& r) -> absl::StatusOr<Response> {
    std::string who = r.identity.has_value() ? std::any_cast<std::string>(r.identity) : "";
    nlohmann::json params(r.path_params);
    return Response::Json(200,
                          nlohmann::json{{"route", what}, {"who", who}, {"params", params}}.dump());
  };
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest()
      : router_(
            {
                {"GET", "/items", AuthScope::kPublic, Echo("list")},
                {"GET", "/items/{id}", AuthScope::kPublic, Echo("get")},
                {"POST", "/items/{id}/publish", AuthScope::kAdmin, Echo("publish"), 10},
                {"GET", "/assets/{*path}", AuthScope::kPublic, Echo("asset")},
                {"GET", "/boom", AuthScope::kPublic,
                 [](Request&) -> absl::StatusOr<Response> { throw std::runtime_error("boom"); }},
            },
            {{AuthScope::kAdmin, &auth_}}, 1024) {}

  Response Call(std::string method, std::string path, std::string auth = "") {
    Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.request_id = "rid-1";
    if (!auth.empty()) r.headers["authorization"] = auth;
    return router_.Handle(r);
  }

  FakeAuthenticator auth_;
  Router router_;
};

TEST_F(RouterTest, MatchesLiteralAndParameterSegments) {
  auto r = Call("GET", "/items/a%20b");
  EXPECT_EQ(r.status, 200);
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["route"], "get");
  EXPECT_EQ(body["params"]["id"], "a b");
  EXPECT_EQ(nlohmann::json::parse(Call("GET", "/items").body)["route"], "list");
}

TEST_F(RouterTest, TrailingWildcardTakesTheRest) {
  auto body = nlohmann::json::parse(Call("GET", "/assets/js/app.js").body);
  EXPECT_EQ(body["params"]["path"], "js/app.js");
  EXPECT_EQ(Call("GET", "/assets/").status, 404);
}

TEST_F(RouterTest, UnknownPathIs404AndWrongMethodIs405WithErrorBody) {
  auto nf = Call("GET", "/nope");
  EXPECT_EQ(nf.status, 404);
  auto body = nlohmann::json::parse(nf.body);
  EXPECT_EQ(body["error"]["code"], "NOT_FOUND");
  EXPECT_EQ(body["error"]["request_id"], "rid-1");
  auto na = Call("DELETE", "/items");
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(nlohmann::json::parse(na.body)["error"]["code"], "METHOD_NOT_ALLOWED");
  EXPECT_EQ(Call("GET", "/items/x/extra").status, 404);
}

TEST_F(RouterTest, AuthIsARoutingStage) {
  EXPECT_EQ(Call("POST", "/items/7/publish").status, 401);
  EXPECT_EQ(Call("POST", "/items/7/publish", "bad").status, 401);
  auto ok = Call("POST", "/items/7/publish", "good");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(nlohmann::json::parse(ok.body)["who"], "alice");
}

TEST_F(RouterTest, ExceptionsBecome500WithoutDetails) {
  auto r = Call("GET", "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["message"], "internal server error");
}

TEST_F(RouterTest, BodyLimitsPerRoute) {
  EXPECT_EQ(router_.BodyLimitOf(router_.Find("POST", "/items/1/publish")), 10u);
  EXPECT_EQ(router_.BodyLimitOf(router_.Find("GET", "/items")), 1024u);
  EXPECT_EQ(router_.BodyLimitOf(router_.Find("PUT", "/unknown")), 1024u);
}

// The console's client-side routes: a catch-all GET listed first, to show that
// list order does not let it shadow a real route.
class FallbackRouterTest : public ::testing::Test {
 protected:
  static Route Fallback(std::string method, std::string what) {
    Route r{std::move(method), "/{*path}", AuthScope::kPublic, Echo(std::move(what))};
    r.fallback = true;
    return r;
  }
  FallbackRouterTest()
      : router_(
            {
                Fallback("GET", "console"),
                {"GET", "/items", AuthScope::kPublic, Echo("list")},
                {"POST", "/items", AuthScope::kPublic, Echo("create")},
                {"GET", "/items/{id}", AuthScope::kPublic, Echo("get")},
                {"PUT", "/only-put", AuthScope::kPublic, Echo("put"), 7},
            },
            {}, 1024) {}

  Response Call(std::string method, std::string path) {
    Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.request_id = "rid-2";
    return router_.Handle(r);
  }
  std::string RouteOf(const Response& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? nlohmann::json::parse(r.body)["route"].get<std::string>() : "";
  }

  Router router_;
};

TEST_F(FallbackRouterTest, RealRoutesWinOverTheFallback) {
  EXPECT_EQ(RouteOf(Call("GET", "/items")), "list");
  EXPECT_EQ(RouteOf(Call("POST", "/items")), "create");
  auto r = Call("GET", "/items/7");
  EXPECT_EQ(RouteOf(r), "get");
  EXPECT_EQ(nlohmann::json::parse(r.body)["params"]["id"], "7");
}

TEST_F(FallbackRouterTest, UnmatchedPathsOfTheFallbackMethodGoToIt) {
  auto r = Call("GET", "/models/abc/versions");
  EXPECT_EQ(RouteOf(r), "console");
  EXPECT_EQ(nlohmann::json::parse(r.body)["params"]["path"], "models/abc/versions");
  // Deeper than any real pattern: not a real route, so the fallback's.
  EXPECT_EQ(RouteOf(Call("GET", "/items/7/extra")), "console");
  auto* found = router_.Find("GET", "/dashboard");
  ASSERT_NE(found, nullptr);
  EXPECT_TRUE(found->fallback);
}

TEST_F(FallbackRouterTest, UnknownPathWithAnotherMethodIs404Not405) {
  for (const char* method : {"POST", "DELETE", "PUT"}) {
    SCOPED_TRACE(method);
    auto r = Call(method, "/dashboard");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["code"], "NOT_FOUND");
    EXPECT_EQ(router_.Find(method, "/dashboard"), nullptr);
  }
}

TEST_F(FallbackRouterTest, KnownPathWithWrongMethodStays405) {
  // The fallback matches GET /only-put, but the path belongs to a real route.
  auto r = Call("GET", "/only-put");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["code"], "METHOD_NOT_ALLOWED");
  EXPECT_EQ(Call("DELETE", "/items").status, 405);
  EXPECT_EQ(RouteOf(Call("PUT", "/only-put")), "put");
}

TEST_F(FallbackRouterTest, BodyLimitsFollowTheResolvedRoute) {
  EXPECT_EQ(router_.BodyLimitOf(router_.Find("PUT", "/only-put")), 7u);
  EXPECT_EQ(router_.BodyLimitOf(router_.Find("GET", "/anything")), 1024u);
  EXPECT_EQ(router_.BodyLimitOf(router_.Find("POST", "/anything")), 1024u);
}

TEST(FallbackRouterMethodsTest, EachFallbackAnswersOnlyItsMethod) {
  Route get{"GET", "/{*path}", AuthScope::kPublic, Echo("get-fallback")};
  get.fallback = true;
  Route post{"POST", "/{*path}", AuthScope::kPublic, Echo("post-fallback")};
  post.fallback = true;
  Router router({get, post, {"GET", "/x", AuthScope::kPublic, Echo("x")}}, {}, 1024);
  auto name = [&](const char* method, const char* path) -> std::string {
    auto r = router.Find(method, path);
    return r == nullptr ? "none"
                        : r->pattern + (r->fallback ? " (fallback " + r->method + ")" : "");
  };
  EXPECT_EQ(name("GET", "/y"), "/{*path} (fallback GET)");
  EXPECT_EQ(name("POST", "/y"), "/{*path} (fallback POST)");
  EXPECT_EQ(name("PATCH", "/y"), "none");
  EXPECT_EQ(name("GET", "/x"), "/x");
  // /x is a real GET path: POST on it is 405, not the POST fallback.
  auto resolved = router.Resolve("POST", "/x", nullptr);
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(RequestTest, QueryAndPercentDecoding) {
  auto q = ParseQuery("a=1&b=x%20y+z&flag&&c=%zz");
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>("a", "1")));
  EXPECT_EQ(q[1].second, "x y z");
  EXPECT_EQ(q[2].first, "flag");
  std::string out;
  EXPECT_FALSE(PercentDecode("%4", false, &out));
  EXPECT_TRUE(PercentDecode("%41+", false, &out));
  EXPECT_EQ(out, "A+");
}

}  // namespace
}  // namespace cinfer::http
