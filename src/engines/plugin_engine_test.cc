// PluginEngine and EngineRegistry against the real plugins of this build
// (CINFER_PLUGIN_DIR): opened on first use, and every way a plugin can be
// unusable leaves its engine unavailable with the reason, not the process down.
#include "engines/plugin_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "engines/builtin_engines.h"
#include "engines/engine_registry.h"
#include "engines/engine_test_util.h"
#include "testing/temp_dir.h"

namespace cinfer {
namespace {

std::string Plugin(std::string_view name) {
  return std::string(CINFER_PLUGIN_DIR) + "/libcinfer_engine_" + std::string(name) + ".so";
}

TEST(PluginEngineTest, OpensThePluginOnFirstLoadOnly) {
  PluginEngine engine({"onnxruntime", Plugin("onnxruntime"), R"({"threads":1})"});
  EXPECT_EQ(engine.name(), "onnxruntime");
  EXPECT_EQ(engine.status().state, PluginEngine::State::kAvailable);
  auto model = engine.Load(testing::Fixture("tiny_classifier.onnx"), {});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(engine.status().state, PluginEngine::State::kLoaded);
  EXPECT_FALSE((*model)->inputs().empty());
}

TEST(PluginEngineTest, AMissingPluginIsUnavailableWithTheReason) {
  PluginEngine engine({"openvino", "/nonexistent/libcinfer_engine_openvino.so", "{}"});
  EXPECT_EQ(engine.status().state, PluginEngine::State::kUnavailable);
  EXPECT_NE(engine.status().reason.find("not found"), std::string::npos);
  auto model = engine.Load(testing::Fixture("tiny_classifier.onnx"), {});
  EXPECT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(model.status().message().find("/nonexistent/"), std::string::npos);
}

TEST(PluginEngineTest, AFileThatIsNotALibraryIsUnavailable) {
  testing::TempDir dir;
  const std::string fake = dir.path() + "/libcinfer_engine_onnxruntime.so";
  std::ofstream(fake) << "not an ELF file";
  PluginEngine engine({"onnxruntime", fake, "{}"});
  EXPECT_EQ(engine.status().state, PluginEngine::State::kAvailable);  // not tried yet
  auto opened = engine.Open();
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(opened.status().message().find("cannot be opened"), std::string::npos);
  const PluginEngine::Status st = engine.status();
  EXPECT_EQ(st.state, PluginEngine::State::kUnavailable);
  EXPECT_NE(st.reason.find("cannot be opened"), std::string::npos);
  // The failure is kept: the same reason again, without another dlopen.
  EXPECT_EQ(engine.Open().status(), opened.status());
}

TEST(PluginEngineTest, APluginOfAnotherEngineIsRefused) {
  PluginEngine engine({"openvino", Plugin("onnxruntime"), "{}"});
  auto opened = engine.Open();
  EXPECT_NE(opened.status().message().find("is not the 'openvino' engine"), std::string::npos)
      << opened.status();
}

TEST(PluginEngineTest, BadOptionsMakeTheEngineUnavailable) {
  PluginEngine engine({"onnxruntime", Plugin("onnxruntime"), R"({"threads":"four"})"});
  auto opened = engine.Open();
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(opened.status().message().find("cannot start"), std::string::npos);
  EXPECT_NE(opened.status().message().find("threads"), std::string::npos);
}

TEST(EngineRegistryPluginTest, DescribesEnginesWithoutOpeningThem) {
  EnginesConfig config;
  config.onnx.threads = 1;
  auto registry = BuildEngineRegistry(config);
  auto described = registry->Describe();
  std::vector<std::string> names;
  for (const auto& e : described) {
    names.push_back(e.name);
    EXPECT_EQ(e.state, "available") << e.name << ": " << e.reason;
  }
  EXPECT_NE(std::find(names.begin(), names.end(), "onnxruntime"), names.end());
  // Sniffed ONNX goes to ONNX Runtime, which opens only that plugin.
  auto engine = registry->Select(ModelFormat::kOnnx, "");
  ASSERT_TRUE(engine.ok());
  ASSERT_TRUE((*engine)->Load(testing::Fixture("tiny_classifier.onnx"), {}).ok());
  for (const auto& e : registry->Describe()) {
    EXPECT_EQ(e.state, e.name == "onnxruntime" ? "loaded" : "available") << e.name;
  }
}

TEST(EngineRegistryPluginTest, SniffedFormatsSkipUnavailableEngines) {
  EnginesConfig config;
  config.plugin_dir = "/nonexistent";
  auto registry = BuildEngineRegistry(config);
  for (const auto& e : registry->Describe()) EXPECT_EQ(e.state, "unavailable") << e.name;
  auto engine = registry->Select(ModelFormat::kOnnx, "");
  EXPECT_FALSE(engine.ok());
  auto requested = registry->Select(ModelFormat::kOnnx, "onnxruntime");
  ASSERT_TRUE(requested.ok());  // named explicitly: Load gives the reason
  EXPECT_NE((*requested)
                ->Load(testing::Fixture("tiny_classifier.onnx"), {})
                .status()
                .message()
                .find("not found"),
            std::string::npos);
}

}  // namespace
}  // namespace cinfer
