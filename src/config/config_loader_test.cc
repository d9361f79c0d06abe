#include "config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/strings.h"
#include "config/config_fields.h"

namespace cinfer {
namespace {

using ::testing::HasSubstr;

std::string Message(const absl::Status& st) { return std::string(ToStd(st.message())); }

TEST(ConfigLoaderTest, DefaultsMatchTheDesignDocument) {
  auto c = LoadConfig(std::nullopt, {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.host, "127.0.0.1");
  EXPECT_EQ(c->server.port, 8000);
  EXPECT_EQ(c->server.data_dir, "./data");
  EXPECT_EQ(c->engines.default_engine, "onnx");
  EXPECT_EQ(c->models.max_file_size_mb, 100);
  EXPECT_EQ(c->request.timeout_ms, 5000);
  EXPECT_EQ(c->auth.rate_limit.requests_per_minute, 60);
}

TEST(ConfigLoaderTest, YamlSetsNestedKeys) {
  auto c = LoadConfigFromString(
      "server: {port: 9001, log_level: debug, trusted_proxies: [10.0.0.0/8, '::1']}\n"
      "engines: {default: pytorch, onnx: {threads: 2, execution_providers: "
      "[CUDAExecutionProvider]}}\n"
      "auth: {rate_limit: {requests_per_minute: 7}}\n",
      {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.port, 9001);
  EXPECT_EQ(c->server.log_level, "debug");
  EXPECT_THAT(c->server.trusted_proxies, ::testing::ElementsAre("10.0.0.0/8", "::1"));
  EXPECT_EQ(c->engines.default_engine, "pytorch");
  EXPECT_EQ(c->engines.onnx.threads, 2);
  EXPECT_THAT(c->engines.onnx.execution_providers, ::testing::ElementsAre("CUDAExecutionProvider"));
  EXPECT_EQ(c->auth.rate_limit.requests_per_minute, 7);
}

TEST(ConfigLoaderTest, EnvironmentOverridesYaml) {
  auto c = LoadConfigFromString("server: {port: 9001}\n",
                                {{"CINFER_SERVER__PORT", "8080"},
                                 {"CINFER_SERVER__DATA_DIR", "/tmp/x"},
                                 {"CINFER_AUTH__RATE_LIMIT__REQUESTS_PER_MINUTE", "5"},
                                 {"CINFER_SERVER__TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"},
                                 {"CINFER_BIN", "/ignored/without/double/underscore"},
                                 {"PATH", "/usr/bin"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.port, 8080);
  EXPECT_EQ(c->server.data_dir, "/tmp/x");
  EXPECT_EQ(c->auth.rate_limit.requests_per_minute, 5);
  EXPECT_THAT(c->server.trusted_proxies, ::testing::ElementsAre("127.0.0.1", "10.0.0.0/8"));
}

TEST(ConfigLoaderTest, UnknownYamlKeyIsNamed) {
  auto c = LoadConfigFromString("server: {prot: 1}\n", {});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(Message(c.status()), HasSubstr("server.prot"));
  auto top = LoadConfigFromString("serverr: {}\n", {});
  ASSERT_FALSE(top.ok());
  EXPECT_THAT(Message(top.status()), HasSubstr("serverr"));
}

TEST(ConfigLoaderTest, UnknownEnvironmentKeyIsNamed) {
  auto c = LoadConfig(std::nullopt, {{"CINFER_SERVER__PROTT", "1"}});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(Message(c.status()), HasSubstr("server.prott"));
  EXPECT_THAT(Message(c.status()), HasSubstr("CINFER_SERVER__PROTT"));
}

TEST(ConfigLoaderTest, InvalidValuesAreNamed) {
  for (const char* yaml : {"server: {port: abc}", "server: {port: 70000}", "server: {port: [1]}",
                           "server: {access_log: maybe}", "server: {log_level: loud}"}) {
    auto c = LoadConfigFromString(yaml, {});
    ASSERT_FALSE(c.ok()) << yaml;
    EXPECT_THAT(Message(c.status()), HasSubstr("server.")) << yaml;
  }
  auto env = LoadConfig(std::nullopt, {{"CINFER_SERVER__PORT", "-1"}});
  ASSERT_FALSE(env.ok());
  EXPECT_THAT(Message(env.status()), HasSubstr("server.port"));
}

TEST(ConfigLoaderTest, TlsNeedsCertificateAndKey) {
  auto c = LoadConfigFromString("server: {tls: {enabled: true}}", {});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(Message(c.status()), HasSubstr("server.tls.cert_file"));
}

TEST(ConfigLoaderTest, MetricsListenTakesHostAndPort) {
  auto c = LoadConfig(std::nullopt, {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->metrics.listen, "");  // the main listener
  for (const char* good :
       {"127.0.0.1:9464", "0.0.0.0:9464", "[::1]:9464", "[::]:0", "127.0.0.1:65535"}) {
    auto l = LoadConfigFromString(StrCat("metrics: {listen: '", good, "'}"), {});
    ASSERT_TRUE(l.ok()) << good << ": " << l.status();
    EXPECT_EQ(l->metrics.listen, good);
  }
  auto env = LoadConfig(std::nullopt, {{"CINFER_METRICS__LISTEN", "127.0.0.1:9100"}});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->metrics.listen, "127.0.0.1:9100");
  auto parsed = config_fields::ParseListenAddress("[::1]:9464");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->host, "::1");
  EXPECT_EQ(parsed->port, 9464);
}

TEST(ConfigLoaderTest, BadMetricsListenValuesAreNamed) {
  for (const char* bad : {"nohost", "1.2.3.4:99999", "1.2.3.4:", ":9464", "localhost:9464",
                          "::1:9464", "[::1:9464", "[1.2.3.4]:80", "1.2.3.4:-1", "1.2.3.4:+80",
                          "1.2.3.4:80x", " 1.2.3.4:80", "1.2.3.4:9464:1", "999.1.1.1:80"}) {
    auto yaml = LoadConfigFromString(StrCat("metrics: {listen: '", bad, "'}"), {});
    ASSERT_FALSE(yaml.ok()) << bad;
    EXPECT_THAT(Message(yaml.status()), HasSubstr("config key 'metrics.listen'")) << bad;
    auto env = LoadConfig(std::nullopt, {{"CINFER_METRICS__LISTEN", bad}});
    ASSERT_FALSE(env.ok()) << bad;
    EXPECT_THAT(Message(env.status()), HasSubstr("metrics.listen")) << bad;
  }
  auto port = LoadConfigFromString("metrics: {listen: '1.2.3.4:99999'}", {});
  EXPECT_THAT(Message(port.status()), HasSubstr("between 0 and 65535"));
  auto host = LoadConfigFromString("metrics: {listen: nohost}", {});
  EXPECT_THAT(Message(host.status()), HasSubstr("HOST:PORT"));
}

TEST(ConfigLoaderTest, MetricsListenAppliesAfterARestart) {
  for (const ConfigKeyInfo& k : DescribeConfigKeys()) {
    if (k.path != "metrics.listen") continue;
    EXPECT_EQ(k.apply, ConfigApply::kRestart);
    EXPECT_EQ(k.type, ConfigType::kString);
    EXPECT_EQ(k.env_name, "CINFER_METRICS__LISTEN");
    return;
  }
  ADD_FAILURE() << "metrics.listen is not a config key";
}

TEST(ConfigLoaderTest, SetConfigValueChecksMetricsListen) {
  Config c;
  EXPECT_TRUE(SetConfigValue(c, "metrics.listen", std::string("127.0.0.1:9464")).ok());
  EXPECT_EQ(c.metrics.listen, "127.0.0.1:9464");
  absl::Status st = SetConfigValue(c, "metrics.listen", std::string("127.0.0.1:70000"));
  EXPECT_THAT(Message(st), HasSubstr("metrics.listen"));
  EXPECT_EQ(c.metrics.listen, "127.0.0.1:9464");  // unchanged
  EXPECT_TRUE(SetConfigValue(c, "metrics.listen", std::string()).ok());
  EXPECT_EQ(c.metrics.listen, "");
}

TEST(ConfigLoaderTest, MalformedYamlIsAnError) {
  EXPECT_FALSE(LoadConfigFromString("server: {port: 1", {}).ok());
  EXPECT_FALSE(LoadConfigFromString("- just\n- a list\n", {}).ok());
  EXPECT_FALSE(LoadConfig(std::string("/nonexistent/cinfer.yaml"), {}).ok());
}

TEST(ConfigLoaderTest, EveryKeyIsListed) {
  auto keys = ConfigKeys();
  EXPECT_THAT(keys, ::testing::Contains("server.data_dir"));
  EXPECT_THAT(keys, ::testing::Contains("auth.ip_filter.enabled"));
}

}  // namespace
}  // namespace cinfer
