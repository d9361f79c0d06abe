// The API-token admin routes at handler level: the real route table, Router, TokenService
// and SQLite file, no socket. The authentication stage is a stand-in that sets the admin
// Principal the real AdminAuthenticator would.
#include "api/admin/token_handlers.h"

#include <gtest/gtest.h>

#include "auth/admin_auth_service.h"
#include "common/errors.h"
#include "common/time_format.h"
#include "http/router.h"
#include "nlohmann/json.hpp"
#include "storage/sqlite/sqlite_database.h"
#include "storage/test_records.h"
#include "testing/temp_dir.h"
#include "tokens/token_service.h"
#include "tokens/usage_recorder.h"

namespace cinfer::api {
namespace {

using nlohmann::json;

const Clock::TimePoint kStart = Clock::TimePoint(std::chrono::seconds(1'795'176'000));
const std::string kBase = "/api/v1/internal/tokens";

class SignedInAdmin final : public http::Authenticator {
 public:
  absl::Status Authenticate(http::Request& request) override {
    Principal who;
    who.user_id = "u1";
    who.username = "root";
    who.role = Role::kAdmin;
    request.identity = who;
    return absl::OkStatus();
  }
};

class TokenHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDatabase::Open({.path = dir_.File("cinfer.db")});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    ASSERT_TRUE(
        db_->CreateFirstAdmin(testing::TestAdmin("u1", "root", FormatIso8601(kStart))).ok());
    usage_ = std::make_unique<UsageRecorder>(UsageRecorder::Options{}, db_.get());
    auto svc =
        TokenService::Create({.default_expiry_days = 30},
                             {db_.get(), db_.get(), db_.get(), db_.get(), usage_.get(), &clock_});
    ASSERT_TRUE(svc.ok()) << svc.status();
    tokens_ = *std::move(svc);
    std::vector<http::Route> routes;
    AddTokenRoutes(tokens_.get(), routes);
    router_ = std::make_unique<http::Router>(
        std::move(routes),
        std::map<http::AuthScope, http::Authenticator*>{{http::AuthScope::kAdmin, &auth_}},
        1 << 20);
  }

  http::Response Call(std::string method, std::string path, std::string body = "") {
    http::Request r;
    r.method = std::move(method);
    const size_t q = path.find('?');
    if (q != std::string::npos) r.query = http::ParseQuery(path.substr(q + 1));
    r.path = path.substr(0, q);
    r.body = std::move(body);
    if (!r.body.empty()) r.headers["content-type"] = "application/json";
    r.client_ip = "10.0.0.9";
    r.request_id = "rid";
    return router_->Handle(r);
  }

  static std::string CodeOf(const http::Response& r) {
    return json::parse(r.body)["error"]["code"].get<std::string>();
  }

  json Created(const std::string& name) {
    http::Response r = Call("POST", kBase, json{{"name", name}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body);
  }

  testing::TempDir dir_;
  FakeClock clock_{kStart};
  std::unique_ptr<SqliteDatabase> db_;
  std::unique_ptr<UsageRecorder> usage_;
  std::unique_ptr<TokenService> tokens_;
  SignedInAdmin auth_;
  std::unique_ptr<http::Router> router_;
};

TEST_F(TokenHandlersTest, CreateShowsTheValueOnceWithNoStoreAndAuditsTheAdmin) {
  http::Response r = Call("POST", kBase, R"({"name": "ci", "rate_limit_per_minute": 5})");
  ASSERT_EQ(r.status, 201) << r.body;
  const json body = json::parse(r.body);
  const std::string value = body["token"];
  EXPECT_TRUE(value.starts_with("cit_"));
  EXPECT_EQ(body["rate_limit_per_minute"], 5);
  bool no_store = false;
  for (const auto& [k, v] : r.headers) no_store |= k == "Cache-Control" && v == "no-store";
  EXPECT_TRUE(no_store);
  // Read back: never the value again.
  http::Response got = Call("GET", kBase + "/" + body["id"].get<std::string>());
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.body.find(value), std::string::npos);
  EXPECT_FALSE(json::parse(got.body).contains("token"));
  auto audit = db_->RecentAudit(5);
  ASSERT_TRUE(audit.ok() && !audit->empty());
  EXPECT_EQ(audit->front().action, "token.create");
  EXPECT_EQ(audit->front().actor, "root");
  EXPECT_EQ(audit->front().client_ip, "10.0.0.9");
}

TEST_F(TokenHandlersTest, BadBodiesAreRefusedAndCreateNothing) {
  EXPECT_EQ(CodeOf(Call("POST", kBase, "{not json")), "INVALID_JSON");
  EXPECT_EQ(CodeOf(Call("POST", kBase, "[1, 2]")), "INVALID_JSON");
  http::Response unknown = Call("POST", kBase, R"({"name": "x", "colour": "red"})");
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(CodeOf(unknown), "VALIDATION_FAILED");
  http::Response negative = Call("POST", kBase, R"({"name": "x", "monthly_limit": -1})");
  EXPECT_EQ(negative.status, 422) << negative.body;
  http::Response listed = Call("GET", kBase);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(json::parse(listed.body)["total"], 0);
}

TEST_F(TokenHandlersTest, UnknownIdsAre404TokenNotFoundOnEveryRoute) {
  for (const auto& [method, suffix] :
       std::vector<std::pair<std::string, std::string>>{{"GET", ""},
                                                        {"PATCH", ""},
                                                        {"DELETE", ""},
                                                        {"POST", "/pause"},
                                                        {"POST", "/resume"},
                                                        {"POST", "/reset-usage"},
                                                        {"GET", "/usage"}}) {
    http::Response r = Call(method, kBase + "/no-such-token" + suffix,
                            method == "PATCH" ? R"({"remark": "x"})" : "");
    EXPECT_EQ(r.status, 404) << method << suffix << " " << r.body;
    EXPECT_EQ(CodeOf(r), "TOKEN_NOT_FOUND") << method << suffix;
  }
}

TEST_F(TokenHandlersTest, PauseResumeUpdateAndDeleteChangeWhatTheListShows) {
  const std::string id = Created("a")["id"];
  Created("b");
  http::Response paused = Call("POST", kBase + "/" + id + "/pause");
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_EQ(json::parse(paused.body)["state"], "paused");
  json only_paused = json::parse(Call("GET", kBase + "?state=paused").body);
  ASSERT_EQ(only_paused["total"], 1);
  EXPECT_EQ(only_paused["items"][0]["id"], id);
  EXPECT_EQ(CodeOf(Call("GET", kBase + "?state=sleepy")), "BAD_REQUEST");
  EXPECT_EQ(json::parse(Call("POST", kBase + "/" + id + "/resume").body)["state"], "active");
  http::Response patched = Call("PATCH", kBase + "/" + id, R"({"remark": "ci runner"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(json::parse(patched.body)["remark"], "ci runner");
  EXPECT_EQ(Call("DELETE", kBase + "/" + id).status, 204);
  EXPECT_EQ(Call("GET", kBase + "/" + id).status, 404);
  EXPECT_EQ(json::parse(Call("GET", kBase).body)["total"], 1);
}

TEST_F(TokenHandlersTest, ListingPagesAndRefusesBadPageParameters) {
  for (int i = 0; i < 5; ++i) Created("t" + std::to_string(i));
  json page = json::parse(Call("GET", kBase + "?page=2&page_size=2").body);
  EXPECT_EQ(page["total"], 5);
  EXPECT_EQ(page["items"].size(), 2u);
  EXPECT_EQ(CodeOf(Call("GET", kBase + "?page_size=0")), "BAD_REQUEST");
  EXPECT_EQ(CodeOf(Call("GET", kBase + "?page=abc")), "BAD_REQUEST");
  EXPECT_EQ(CodeOf(Call("GET", kBase + "/x/usage?days=0")), "BAD_REQUEST");
}

}  // namespace
}  // namespace cinfer::api
