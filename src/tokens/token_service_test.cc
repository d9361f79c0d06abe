#include "tokens/token_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "storage/sqlite/sqlite_database.h"
#include "storage/test_records.h"
#include "testing/temp_dir.h"
#include "tokens/token_value.h"

namespace cinfer {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

// 2026-11-20T12:00:00Z
const Clock::TimePoint kStart = Clock::TimePoint(seconds(1'795'176'000));

// TokenFields with chained setters (designated initializers would have to
// name every field under -Wextra).
struct Fields : TokenFields {
  Fields& Name(std::string v) {
    name = std::move(v);
    return *this;
  }
  Fields& Expires(std::optional<std::string> v) {
    expires_at = std::move(v);
    return *this;
  }
  Fields& Models(std::vector<std::string> v) {
    allowed_models = std::move(v);
    return *this;
  }
  Fields& Whitelist(std::vector<std::string> v) {
    ip_whitelist = std::move(v);
    return *this;
  }
  Fields& Rate(std::optional<int64_t> v) {
    rate_limit_per_minute = v;
    return *this;
  }
  Fields& Monthly(std::optional<int64_t> v) {
    monthly_limit = v;
    return *this;
  }
};

class TokenServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(UtcDay(kStart), "2026-11-20");
    Open();
    ASSERT_TRUE(
        db_->CreateFirstAdmin(testing::TestAdmin("u1", "root", FormatIso8601(kStart))).ok());
    for (const char* id : {"m1", "m2"}) {
      ModelRecord m;
      m.id = m.name = id;
      m.engine = "onnxruntime";
      m.created_at = m.updated_at = FormatIso8601(kStart);
      ModelVersionRecord v;
      v.id = std::string(id) + "v1";
      v.model_id = id;
      v.file_path = "/x";
      v.sha256 = "00";
      v.created_at = m.created_at;
      m.created_by = v.created_by = "u1";
      absl::Status st = db_->CreateModel(m, v);
      ASSERT_TRUE(st.ok()) << st;
    }
  }

  void Open() {
    service_.reset();
    usage_.reset();
    db_.reset();
    auto db = SqliteDatabase::Open({.path = dir_.File("cinfer.db")});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    usage_ = std::make_unique<UsageRecorder>(UsageRecorder::Options{}, db_.get());
    auto svc = TokenService::Create(
        options_, {db_.get(), db_.get(), db_.get(), db_.get(), usage_.get(), &clock_});
    ASSERT_TRUE(svc.ok()) << svc.status();
    service_ = *std::move(svc);
  }

  CreatedToken MakeToken(TokenFields f = {}) {
    if (!f.name) f.name = "t" + std::to_string(++n_);
    auto created = service_->CreateToken(f, actor_);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : CreatedToken{};
  }

  absl::Status Call(const std::string& value, const std::string& ip = "127.0.0.1",
                    const std::string* model = nullptr, ApiCaller* out = nullptr) {
    ApiCaller c;
    absl::Status st = service_->Authorize(value, ip, model, &c);
    if (out != nullptr) *out = c;
    return st;
  }

  // One successful inference's worth of quota: reserve and commit one unit.
  absl::Status Use(const std::string& value, const std::string& model = "m1") {
    ApiCaller c;
    RETURN_IF_ERROR(service_->Authorize(value, "127.0.0.1", &model, &c));
    auto r = service_->Reserve(c, model, 1);
    if (!r.ok()) return r.status();
    return r->Commit(1);
  }

  testing::TempDir dir_;
  FakeClock clock_{kStart};
  TokenService::Options options_{.default_expiry_days = 30,
                                 .default_rate_limit = std::nullopt,
                                 .default_monthly_limit = std::nullopt,
                                 .ip_filter = true};
  std::unique_ptr<SqliteDatabase> db_;
  std::unique_ptr<UsageRecorder> usage_;
  std::unique_ptr<TokenService> service_;
  Actor actor_{"root", "u1", "10.0.0.9"};
  int n_ = 0;
};

TEST_F(TokenServiceTest, CreatedValueIsShownOnceAndOnlyItsHashIsStored) {
  CreatedToken t = MakeToken();
  EXPECT_EQ(t.value.size(), kTokenLength);
  EXPECT_TRUE(t.value.starts_with("cit_"));
  EXPECT_TRUE(IsWellFormedToken(t.value));
  auto stored = db_->FindToken(t.view.record.id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->token_hash, TokenHash(t.value));
  EXPECT_EQ((*stored)->token_suffix, t.value.substr(t.value.size() - 4));
  EXPECT_EQ((*stored)->token_hash.find(t.value), std::string::npos);
  auto audit = db_->RecentAudit(10);
  ASSERT_TRUE(audit.ok());
  ASSERT_FALSE(audit->empty());
  for (const auto& e : *audit) EXPECT_EQ(e.detail.find(t.value), std::string::npos);
  EXPECT_EQ(audit->front().action, "token.create");
  // Two tokens never share a value.
  EXPECT_NE(MakeToken().value, t.value);
  // Defaults: expiry from the options, all models, any address.
  EXPECT_EQ(t.view.record.expires_at, FormatIso8601(kStart + hours(24 * 30)));
  EXPECT_EQ(t.view.record.allowed_models, R"(["*"])");
  EXPECT_EQ(t.view.state, TokenState::kActive);
  EXPECT_EQ(t.view.created_by_name, "root");
}

TEST_F(TokenServiceTest, UnknownMalformedAndMissingTokensGetTheSameAnswer) {
  CreatedToken t = MakeToken();
  std::string unknown = t.value;
  unknown.back() = unknown.back() == 'A' ? 'B' : 'A';
  const absl::Status a = Call("");
  const absl::Status b = Call("cit_short");
  const absl::Status c = Call(unknown);
  EXPECT_EQ(ErrorCodeOf(a), "UNAUTHENTICATED");
  EXPECT_EQ(a, b);
  EXPECT_EQ(b, c);
  EXPECT_TRUE(Call(t.value).ok());
}

TEST_F(TokenServiceTest, InvalidSettingsAreRefusedNamingTheField) {
  auto refuse = [&](TokenFields f, const std::string& field) {
    f.name = "x";
    auto r = service_->CreateToken(f, actor_);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(ErrorCodeOf(r.status()), "VALIDATION_FAILED") << r.status();
    EXPECT_NE(std::string(ToStd(r.status().message())).find(field), std::string::npos)
        << r.status();
  };
  refuse(Fields().Whitelist({"10.0.0.0/8", "10.0.0.300"}), "ip_whitelist");
  refuse(Fields().Whitelist({"2001:db8::/129"}), "ip_whitelist");
  refuse(Fields().Models({"nope"}), "allowed_models");
  refuse(Fields().Models({}), "allowed_models");
  refuse(Fields().Models({"*", "m1"}), "allowed_models");
  refuse(Fields().Expires("2020-01-01T00:00:00Z"), "expires_at");
  refuse(Fields().Expires("tomorrow"), "expires_at");
  refuse(Fields().Rate(0), "rate_limit_per_minute");
  refuse(Fields().Monthly(-1), "monthly_limit");
  auto no_name = service_->CreateToken({}, actor_);
  EXPECT_EQ(ErrorCodeOf(no_name.status()), "VALIDATION_FAILED");
  // Nothing was stored.
  auto all = db_->ListTokens();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  MakeToken(Fields().Name("dup"));
  auto dup = service_->CreateToken(Fields().Name("dup"), actor_);
  EXPECT_EQ(ErrorCodeOf(dup.status()), "TOKEN_NAME_TAKEN");
}

TEST_F(TokenServiceTest, PauseResumeAndDeleteApplyToTheNextRequest) {
  CreatedToken t = MakeToken();
  const std::string& id = t.view.record.id;
  ASSERT_TRUE(Call(t.value).ok());
  ASSERT_TRUE(service_->Pause(id, actor_).ok());
  EXPECT_EQ(ErrorCodeOf(Call(t.value)), "TOKEN_PAUSED");
  EXPECT_EQ(service_->Get(id)->state, TokenState::kPaused);
  ASSERT_TRUE(service_->Resume(id, actor_).ok());
  EXPECT_TRUE(Call(t.value).ok());
  ASSERT_TRUE(service_->Delete(id, actor_).ok());
  EXPECT_EQ(ErrorCodeOf(Call(t.value)), "UNAUTHENTICATED");
  EXPECT_EQ(ErrorCodeOf(service_->Get(id).status()), "TOKEN_NOT_FOUND");
}

TEST_F(TokenServiceTest, ExpiryIsDerivedFromTheClock) {
  CreatedToken t = MakeToken(Fields().Expires(FormatIso8601(kStart + seconds(10))));
  EXPECT_TRUE(Call(t.value).ok());
  clock_.Advance(seconds(10));
  EXPECT_EQ(ErrorCodeOf(Call(t.value)), "TOKEN_EXPIRED");
  EXPECT_EQ(service_->Get(t.view.record.id)->state, TokenState::kExpired);
  // Expired wins over paused (design §6.4: paused -> expired).
  ASSERT_TRUE(service_->Pause(t.view.record.id, actor_).ok());
  EXPECT_EQ(service_->Get(t.view.record.id)->state, TokenState::kExpired);
  // Extending the expiry re-activates it (once resumed).
  ASSERT_TRUE(service_->Update(t.view.record.id, Fields().Expires(std::nullopt), actor_).ok());
  EXPECT_EQ(service_->Get(t.view.record.id)->state, TokenState::kPaused);
  ASSERT_TRUE(service_->Resume(t.view.record.id, actor_).ok());
  EXPECT_TRUE(Call(t.value).ok());
}

TEST_F(TokenServiceTest, IpWhitelistMatchesV4V6AndMappedAddresses) {
  CreatedToken t = MakeToken(Fields().Whitelist({"10.1.0.0/16", "2001:db8::/32"}));
  EXPECT_TRUE(Call(t.value, "10.1.200.3").ok());
  EXPECT_TRUE(Call(t.value, "::ffff:10.1.0.1").ok());
  EXPECT_TRUE(Call(t.value, "2001:db8:1::7").ok());
  EXPECT_EQ(ErrorCodeOf(Call(t.value, "10.2.0.1")), "IP_NOT_ALLOWED");
  EXPECT_EQ(ErrorCodeOf(Call(t.value, "2001:db9::1")), "IP_NOT_ALLOWED");
  EXPECT_EQ(ErrorCodeOf(Call(t.value, "unknown")), "IP_NOT_ALLOWED");
  // Whitelists are stored in canonical form.
  auto v = service_->Update(t.view.record.id, Fields().Whitelist({"192.168.7.9/24"}), actor_);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->record.ip_whitelist, R"(["192.168.7.0/24"])");
  EXPECT_EQ(ErrorCodeOf(Call(t.value, "10.1.200.3")), "IP_NOT_ALLOWED");
}

TEST_F(TokenServiceTest, ModelsOutsideTheAllowedListAreRefused) {
  CreatedToken t = MakeToken(Fields().Models({"m1"}));
  const std::string m1 = "m1", m2 = "m2";
  ApiCaller c;
  EXPECT_TRUE(Call(t.value, "127.0.0.1", &m1, &c).ok());
  EXPECT_EQ(ErrorCodeOf(Call(t.value, "127.0.0.1", &m2)), "MODEL_NOT_ALLOWED");
  EXPECT_TRUE(Call(t.value, "127.0.0.1", nullptr).ok());  // listing
  EXPECT_TRUE(service_->ModelAllowed(c, "m1"));
  EXPECT_FALSE(service_->ModelAllowed(c, "m2"));
}

TEST_F(TokenServiceTest, RateLimitIsASlidingWindowWithRetryAfter) {
  CreatedToken t = MakeToken(Fields().Rate(30));
  for (int i = 0; i < 30; ++i) {
    ApiCaller c;
    ASSERT_TRUE(Call(t.value, "127.0.0.1", nullptr, &c).ok()) << i;
    ASSERT_TRUE(c.rate.has_value());
    EXPECT_EQ(c.rate->remaining, 29 - i);
    clock_.Advance(seconds(1));  // requests at t = 0..29 s
  }
  ApiCaller c;
  absl::Status refused = Call(t.value, "127.0.0.1", nullptr, &c);  // t = 30 s
  EXPECT_EQ(ErrorCodeOf(refused), "RATE_LIMITED");
  EXPECT_EQ(RetryAfterOf(refused), 30);  // the first leaves the window at t = 60 s
  EXPECT_EQ(c.rate->remaining, 0);
  clock_.Advance(seconds(29));  // t = 59 s: still full
  EXPECT_EQ(ErrorCodeOf(Call(t.value)), "RATE_LIMITED");
  clock_.Advance(seconds(1));  // t = 60 s: one slot
  EXPECT_TRUE(Call(t.value).ok());
  EXPECT_EQ(ErrorCodeOf(Call(t.value)), "RATE_LIMITED");
  // Refusals for other reasons carry the window state but count nothing.
  ASSERT_TRUE(service_->Pause(t.view.record.id, actor_).ok());
  ApiCaller paused;
  EXPECT_EQ(ErrorCodeOf(Call(t.value, "127.0.0.1", nullptr, &paused)), "TOKEN_PAUSED");
  ASSERT_TRUE(paused.rate.has_value());
  EXPECT_EQ(paused.rate->limit, 30);
}

TEST_F(TokenServiceTest, RefusalsDoNotCountInTheRateWindow) {
  CreatedToken t = MakeToken(Fields().Rate(2).Monthly(1));
  ASSERT_TRUE(Use(t.value).ok());
  // Refused for its quota after the rate check counted it: taken back.
  ApiCaller c;
  const std::string m1 = "m1";
  ASSERT_TRUE(Call(t.value, "127.0.0.1", &m1, &c).ok());
  EXPECT_EQ(c.rate->remaining, 0);
  EXPECT_EQ(ErrorCodeOf(service_->Reserve(c, "m1", 1).status()), "QUOTA_EXCEEDED");
  EXPECT_EQ(c.rate->remaining, 1);
  // A refusal before the rate check shows the window without counting.
  ASSERT_TRUE(service_->Pause(t.view.record.id, actor_).ok());
  ApiCaller paused;
  EXPECT_EQ(ErrorCodeOf(Call(t.value, "127.0.0.1", nullptr, &paused)), "TOKEN_PAUSED");
  EXPECT_EQ(paused.rate->remaining, 1);
  EXPECT_EQ(paused.rate->reset, std::chrono::seconds(60));
  ASSERT_TRUE(service_->Resume(t.view.record.id, actor_).ok());
  EXPECT_TRUE(Call(t.value).ok());
  EXPECT_EQ(ErrorCodeOf(Call(t.value)), "RATE_LIMITED");
}

TEST_F(TokenServiceTest, MonthlyQuotaIsReservedCommittedAndResetsWithTheMonth) {
  CreatedToken t = MakeToken(Fields().Monthly(3));
  const std::string& id = t.view.record.id;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Use(t.value).ok()) << i;
  absl::Status over = Use(t.value);
  EXPECT_EQ(ErrorCodeOf(over), "QUOTA_EXCEEDED");
  // 2026-12-01T00:00:00Z is 10 days 12 hours away.
  EXPECT_EQ(RetryAfterOf(over), 10 * 86400 + 12 * 3600);
  auto v = service_->Get(id);
  EXPECT_EQ(v->state, TokenState::kExceeded);
  EXPECT_EQ(v->record.used_count, 3);
  EXPECT_EQ(v->quota_remaining, 0);
  EXPECT_EQ((*db_->FindToken(id))->used_count, 3);
  // A reservation that is not committed gives its units back.
  ASSERT_TRUE(service_->ResetUsage(id, actor_).ok());
  {
    ApiCaller c;
    ASSERT_TRUE(Call(t.value, "127.0.0.1", nullptr, &c).ok());
    auto r = service_->Reserve(c, "m1", 3);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(ErrorCodeOf(Use(t.value)), "QUOTA_EXCEEDED");
  }
  EXPECT_TRUE(Use(t.value).ok());
  // The next UTC month starts from zero.
  ASSERT_TRUE(Use(t.value).ok());
  ASSERT_TRUE(Use(t.value).ok());
  EXPECT_EQ(ErrorCodeOf(Use(t.value)), "QUOTA_EXCEEDED");
  clock_.Advance(hours(10 * 24 + 12));
  EXPECT_EQ(service_->Get(id)->record.used_count, 0);
  EXPECT_EQ(service_->Get(id)->state, TokenState::kActive);
  EXPECT_TRUE(Use(t.value).ok());
  auto stored = db_->FindToken(id);
  EXPECT_EQ((*stored)->used_count, 1);
  EXPECT_EQ((*stored)->usage_month, "2026-12");
}

TEST_F(TokenServiceTest, ConcurrentCallersNeverOvershootTheQuota) {
  CreatedToken t = MakeToken(Fields().Monthly(100));
  std::atomic<int> ok{0}, exceeded{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 10; ++j) {
        absl::Status st = Use(t.value, j % 2 ? "m1" : "m2");
        if (st.ok()) {
          ++ok;
        } else if (ErrorCodeOf(st) == "QUOTA_EXCEEDED") {
          ++exceeded;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(exceeded.load(), 60);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ((*db_->FindToken(t.view.record.id))->used_count, 100);
  // Fewer transactions than increments would show the group commit, but the
  // number depends on scheduling; the counts above are what must hold.
  auto usage = service_->Usage(t.view.record.id, 7);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->total, 100);
  ASSERT_EQ(usage->days.size(), 7u);
  EXPECT_EQ(usage->days.back(), std::make_pair(std::string("2026-11-20"), int64_t{100}));
  EXPECT_EQ(usage->days.front().first, "2026-11-14");
  ASSERT_EQ(usage->models.size(), 2u);
  EXPECT_EQ(usage->models[0].second + usage->models[1].second, 100);
}

TEST_F(TokenServiceTest, UsageAndSettingsSurviveARestart) {
  CreatedToken t = MakeToken(Fields().Models({"m2"}).Monthly(5));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Use(t.value, "m2").ok());
  ASSERT_TRUE(service_->Pause(t.view.record.id, actor_).ok());
  Open();
  auto v = service_->Get(t.view.record.id);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->record.used_count, 4);
  EXPECT_EQ(v->state, TokenState::kPaused);
  ASSERT_TRUE(service_->Resume(t.view.record.id, actor_).ok());
  EXPECT_TRUE(Use(t.value, "m2").ok());
  EXPECT_EQ(ErrorCodeOf(Use(t.value, "m2")), "QUOTA_EXCEEDED");
  EXPECT_EQ(ErrorCodeOf(Use(t.value, "m1")), "MODEL_NOT_ALLOWED");
}

TEST_F(TokenServiceTest, ListFiltersByStateAndNameNewestFirst) {
  MakeToken(Fields().Name("alpha"));
  clock_.Advance(seconds(1));
  CreatedToken b = MakeToken(Fields().Name("beta"));
  clock_.Advance(seconds(1));
  MakeToken(Fields().Name("alphabet"));
  ASSERT_TRUE(service_->Pause(b.view.record.id, actor_).ok());
  int64_t total = 0;
  auto all = service_->List({}, &total);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(total, 3);
  EXPECT_EQ((*all)[0].record.name, "alphabet");
  EXPECT_EQ((*all)[2].record.name, "alpha");
  auto paused = service_->List(TokenQuery{TokenState::kPaused, "", 0, 20}, &total);
  ASSERT_EQ(paused->size(), 1u);
  EXPECT_EQ((*paused)[0].record.name, "beta");
  auto alpha = service_->List(TokenQuery{std::nullopt, "alpha", 1, 1}, &total);
  EXPECT_EQ(total, 2);
  ASSERT_EQ(alpha->size(), 1u);
  EXPECT_EQ((*alpha)[0].record.name, "alpha");
}

TEST(TokenStateTest, OrderIsExpiredPausedExceededActive) {
  const auto now = kStart;
  TokenStateInputs in{
      .is_active = false, .expires_at = now, .monthly_limit = 1, .used_this_month = 1};
  EXPECT_EQ(DeriveTokenState(in, now), TokenState::kExpired);
  in.expires_at = now + seconds(1);
  EXPECT_EQ(DeriveTokenState(in, now), TokenState::kPaused);
  in.is_active = true;
  EXPECT_EQ(DeriveTokenState(in, now), TokenState::kExceeded);
  in.used_this_month = 0;
  EXPECT_EQ(DeriveTokenState(in, now), TokenState::kActive);
  in.monthly_limit.reset();
  in.used_this_month = 1'000'000;
  EXPECT_EQ(DeriveTokenState(in, now), TokenState::kActive);
  for (auto s :
       {TokenState::kActive, TokenState::kPaused, TokenState::kExpired, TokenState::kExceeded})
    EXPECT_EQ(ParseTokenState(TokenStateName(s)), s);
  EXPECT_FALSE(ParseTokenState("deleted").has_value());
}

TEST(TimeFormatTest, MonthsDaysAndRfc3339) {
  EXPECT_EQ(UtcMonth(kStart), "2026-11");
  EXPECT_EQ(FormatIso8601(NextUtcMonthStart(kStart)), "2026-12-01T00:00:00.000Z");
  auto dec = ParseRfc3339("2026-12-31T23:59:59Z");
  ASSERT_TRUE(dec.has_value());
  EXPECT_EQ(FormatIso8601(NextUtcMonthStart(*dec)), "2027-01-01T00:00:00.000Z");
  auto offset = ParseRfc3339("2026-12-01T08:00:00.5+08:00");
  ASSERT_TRUE(offset.has_value());
  EXPECT_EQ(FormatIso8601(*offset), "2026-12-01T00:00:00.500Z");
  EXPECT_FALSE(ParseRfc3339("2026-12-01").has_value());
  EXPECT_FALSE(ParseRfc3339("soon").has_value());
}

}  // namespace
}  // namespace cinfer
