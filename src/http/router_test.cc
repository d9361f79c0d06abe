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
  EXPECT_EQ(router_.BodyLimitFor("POST", "/items/1/publish"), 10u);
  EXPECT_EQ(router_.BodyLimitFor("GET", "/items"), 1024u);
  EXPECT_EQ(router_.BodyLimitFor("PUT", "/unknown"), 1024u);
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
