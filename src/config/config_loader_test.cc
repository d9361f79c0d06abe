#include "config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/strings.h"

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
