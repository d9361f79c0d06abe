#include "config/runtime_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "common/errors.h"
#include "common/file_util.h"
#include "common/strings.h"

namespace cinfer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class RuntimeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           StrCat("runtime-config-", ::testing::UnitTest::GetInstance()->random_seed(), "-",
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    file_ = (dir_ / "cinfer.yaml").string();
    WriteFile(StrCat("server: {data_dir: '", dir_.string(), "'}\nrequest: {timeout_ms: 4000}\n"));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void WriteFile(const std::string& text) {
    ASSERT_TRUE(WriteFileAtomically(file_, text, 0600).ok());
  }
  std::unique_ptr<RuntimeConfig> Load(Environment env = {}) {
    auto rc = RuntimeConfig::Load({file_, std::move(env)});
    EXPECT_TRUE(rc.ok()) << rc.status();
    return rc.ok() ? *std::move(rc) : nullptr;
  }
  std::string OverrideText() {
    auto text = ReadFileToString((dir_ / "config-override.yaml").string());
    return text.ok() ? *text : "";
  }

  std::filesystem::path dir_;
  std::string file_;
};

RuntimeConfig::KeyState Key(const RuntimeConfig& rc, std::string_view key) {
  for (auto& k : rc.Describe()) {
    if (k.info.path == key) return k;
  }
  ADD_FAILURE() << "no key " << key;
  return {};
}

TEST_F(RuntimeConfigTest, LiveKeyAppliesAndNotifiesWithOneSnapshot) {
  auto rc = Load();
  ASSERT_NE(rc, nullptr);
  std::vector<std::pair<int, int>> seen;
  rc->Subscribe([&](const Config& c) {
    seen.emplace_back(c.request.timeout_ms, c.auth.rate_limit.requests_per_minute);
  });
  auto changes = rc->Apply(
      {{"request.timeout_ms", int64_t{1234}}, {"auth.rate_limit.requests_per_minute", int64_t{7}}});
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_THAT(seen, ElementsAre(std::pair(1234, 7)));  // one call, both keys
  EXPECT_EQ(rc->Current()->request.timeout_ms, 1234);
  EXPECT_EQ(Key(*rc, "request.timeout_ms").source, ConfigSource::kOverride);
  EXPECT_THAT(OverrideText(), HasSubstr("request.timeout_ms: 1234"));
  EXPECT_TRUE(rc->PendingRestart().empty());
}

TEST_F(RuntimeConfigTest, RestartKeyIsSavedAndPendingThenRunsAfterReload) {
  auto rc = Load();
  ASSERT_NE(rc, nullptr);
  ASSERT_TRUE(rc->Apply({{"server.workers", int64_t{9}}}).ok());
  EXPECT_EQ(rc->Current()->server.workers, 4);
  EXPECT_THAT(rc->PendingRestart(), ElementsAre("server.workers"));
  auto k = Key(*rc, "server.workers");
  ASSERT_TRUE(k.pending.has_value());
  EXPECT_EQ(std::get<int64_t>(*k.pending), 9);

  auto again = Load();  // a restart
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->Current()->server.workers, 9);
  EXPECT_TRUE(again->PendingRestart().empty());
  EXPECT_EQ(again->Current()->request.timeout_ms, 4000);  // the file still counts
}

TEST_F(RuntimeConfigTest, NullDropsTheOverride) {
  auto rc = Load();
  ASSERT_NE(rc, nullptr);
  ASSERT_TRUE(rc->Apply({{"request.timeout_ms", int64_t{10}}}).ok());
  ASSERT_TRUE(rc->Apply({{"request.timeout_ms", std::nullopt}}).ok());
  EXPECT_EQ(rc->Current()->request.timeout_ms, 4000);
  EXPECT_EQ(Key(*rc, "request.timeout_ms").source, ConfigSource::kFile);
  EXPECT_THAT(OverrideText(), ::testing::Not(HasSubstr("timeout_ms")));
}

TEST_F(RuntimeConfigTest, BadValueChangesNothingAndNamesTheKey) {
  auto rc = Load();
  ASSERT_NE(rc, nullptr);
  ASSERT_TRUE(rc->Apply({{"request.timeout_ms", int64_t{10}}}).ok());
  const std::string before = OverrideText();
  int calls = 0;
  rc->Subscribe([&](const Config&) { ++calls; });
  for (const RuntimeConfig::Patch& p : std::vector<RuntimeConfig::Patch>{
           {{"request.timeout_ms", int64_t{20}}, {"server.workers", int64_t{0}}},
           {{"server.log_level", std::string("loud")}},
           {{"server.log_level", int64_t{3}}},
           {{"server.trusted_proxies", std::vector<std::string>{"1.2.3.4/40"}}},
           {{"no.such", true}}}) {
    auto st = rc->Apply(p);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.status().code(), absl::StatusCode::kInvalidArgument) << st.status();
    ASSERT_TRUE(DetailsOf(st.status()).has_value()) << st.status();
    EXPECT_THAT(*DetailsOf(st.status()), HasSubstr(p.back().first)) << st.status();
  }
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(OverrideText(), before);
  EXPECT_EQ(rc->Current()->request.timeout_ms, 10);
}

TEST_F(RuntimeConfigTest, EnvironmentWinsAndIsRefused) {
  auto rc = Load({{"CINFER_REQUEST__TIMEOUT_MS", "3000"}});
  ASSERT_NE(rc, nullptr);
  EXPECT_EQ(Key(*rc, "request.timeout_ms").source, ConfigSource::kEnvironment);
  auto st = rc->Apply({{"request.timeout_ms", int64_t{10}}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(ErrorCodeOf(st.status()), "FIXED_BY_ENVIRONMENT");
  EXPECT_THAT(std::string(ToStd(st.status().message())), HasSubstr("CINFER_REQUEST__TIMEOUT_MS"));
  EXPECT_EQ(ErrorCodeOf(rc->Apply({{"server.data_dir", std::string("/x")}}).status()),
            "NOT_RUNTIME_CONFIGURABLE");
}

TEST_F(RuntimeConfigTest, ABrokenOverrideFileStopsStartupNamingIt) {
  ASSERT_TRUE(
      WriteFileAtomically((dir_ / "config-override.yaml").string(), "server.workers: 0\n", 0600)
          .ok());
  auto rc = RuntimeConfig::Load({file_, {}});
  ASSERT_FALSE(rc.ok());
  EXPECT_THAT(std::string(ToStd(rc.status().message())), HasSubstr("config-override.yaml"));
  EXPECT_THAT(std::string(ToStd(rc.status().message())), HasSubstr("server.workers"));
}

TEST_F(RuntimeConfigTest, SnapshotsAreNeverTornUnderConcurrentPatches) {
  auto rc = Load();
  ASSERT_NE(rc, nullptr);
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop) {
        auto c = rc->Current();
        // Every patch sets both keys to n and n + 1.
        if (c->request.timeout_ms != 4000 &&
            c->auth.rate_limit.requests_per_minute != c->request.timeout_ms + 1) {
          ++torn;
        }
      }
    });
  }
  for (int64_t n = 1; n <= 50; ++n) {
    ASSERT_TRUE(
        rc->Apply({{"request.timeout_ms", n}, {"auth.rate_limit.requests_per_minute", n + 1}})
            .ok());
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(rc->Current()->request.timeout_ms, 50);
}

TEST(ConfigOverridesTest, RoundTripKeepsTypes) {
  ConfigOverrides o{{"server.trusted_proxies", std::vector<std::string>{"10.0.0.0/8", "::1"}},
                    {"server.log_level", std::string("warn")},
                    {"auth.ip_filter.enabled", false},
                    {"request.timeout_ms", int64_t{77}}};
  auto parsed = ParseConfigOverrides(SerializeConfigOverrides(o));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, o);
  auto empty = ParseConfigOverrides(SerializeConfigOverrides({}));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
}

TEST(ConfigKeysTest, LiveSecretAndStartupOnlyKeysExist) {
  int live = 0;
  for (const auto& k : DescribeConfigKeys()) {
    if (k.apply == ConfigApply::kLive) ++live;
    if (k.path == "auth.jwt_secret") {
      EXPECT_TRUE(k.secret);
    }
    if (k.path == "server.data_dir") {
      EXPECT_EQ(k.apply, ConfigApply::kStartupOnly);
    }
    if (k.path == "server.log_level") {
      EXPECT_EQ(k.env_name, "CINFER_SERVER__LOG_LEVEL");
    }
  }
  EXPECT_EQ(live, 23);  // every name in kLiveKeys is a real key
}

}  // namespace
}  // namespace cinfer
