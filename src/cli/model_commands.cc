#include "cli/model_commands.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include "common/errors.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engines/builtin_engines.h"
#include "engines/model_inspection.h"
#include "models/model_config.h"
#include "models/model_validator.h"
#include "vision/image.h"
#include "vision/image_codecs.h"
#include "vision/preprocess.h"

namespace cinfer::cli {
namespace {

struct Args {
  std::string file, engine, config_path, output_dir;
  std::string image, model_config;  // bench: decode + preprocess this image per iteration
  std::vector<std::string> shapes, inputs;
  int threads = 0;
  int batch = 1;
  double seconds = 5;
  int64_t memory_mb = 4096;
  int cpu_seconds = 120;
  int timeout_s = 180;
};

int PrintError(const absl::Status& st) {
  nlohmann::json j = {
      {"error", {{"code", ErrorCodeOf(st)}, {"message", std::string(ToStd(st.message()))}}}};
  if (auto detail = HiddenDetailOf(st)) j["error"]["detail"] = *detail;
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  return 1;
}

absl::StatusOr<std::map<std::string, Shape>> Shapes(const Args& a) {
  std::map<std::string, Shape> shapes;
  for (const auto& flag : a.shapes) {
    ASSIGN_OR_RETURN(auto parsed, ParseShapeFlag(flag));
    shapes[parsed.first] = parsed.second;
  }
  return shapes;
}

std::unique_ptr<EngineRegistry> Registry(const Config& config, int threads) {
  EnginesConfig engines = config.engines;
  if (threads > 0) {
    engines.onnx.threads = threads;
    engines.pytorch.threads = threads;
    engines.openvino.threads = threads;
  }
  return BuildEngineRegistry(engines);
}

absl::StatusOr<std::unique_ptr<LoadedModel>> LoadFor(const EngineRegistry& registry, const Args& a,
                                                     const std::map<std::string, Shape>& shapes,
                                                     std::string* engine_name = nullptr) {
  ModelFormat format;
  ASSIGN_OR_RETURN(const Engine* engine, ChooseEngine(registry, a.file, a.engine, &format));
  if (engine_name != nullptr) *engine_name = std::string(engine->name());
  return engine->Load(a.file, LoadOptions{shapes, a.threads});
}

absl::Status Run(const Config& config, const Args& a) {
  ASSIGN_OR_RETURN(auto shapes, Shapes(a));
  auto registry = Registry(config, a.threads);
  ASSIGN_OR_RETURN(auto model, LoadFor(*registry, a, shapes));
  std::vector<Tensor> inputs;
  for (const std::string& flag : a.inputs) {
    const size_t eq = flag.find('=');
    if (eq == std::string::npos)
      return ValidationError(StrCat("bad --input '", flag, "': NAME=FILE"));
    const std::string name = flag.substr(0, eq);
    auto spec = std::find_if(model->inputs().begin(), model->inputs().end(),
                             [&](const TensorSpec& s) { return s.name == name; });
    if (spec == model->inputs().end())
      return ValidationError(StrCat("the model has no input '", name, "'"));
    Shape shape = shapes.count(name) ? shapes[name] : spec->shape;
    ASSIGN_OR_RETURN(Tensor t, MakeTensor(name, spec->dtype, shape));
    ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(flag.substr(eq + 1)));
    if (bytes.size() != t.data.size()) {
      return ValidationError(StrCat("input file for '", name, "' has ", bytes.size(),
                                    " bytes; shape ", ShapeToString(shape), " of ",
                                    DataTypeName(spec->dtype), " needs ", t.data.size()));
    }
    std::memcpy(t.data.data(), bytes.data(), bytes.size());
    inputs.push_back(std::move(t));
  }
  ASSIGN_OR_RETURN(auto outputs, model->Run(inputs));
  RETURN_IF_ERROR(EnsureDirectory(a.output_dir, 0755));
  nlohmann::json index = nlohmann::json::array();
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& t = outputs[i];
    const std::string file = StrCat("output", i, ".bin");
    RETURN_IF_ERROR(WriteFileAtomically(
        a.output_dir + "/" + file,
        std::string_view(reinterpret_cast<const char*>(t.data.data()), t.data.size()), 0644));
    index.push_back({{"name", t.name},
                     {"datatype", DataTypeName(t.dtype)},
                     {"shape", t.shape},
                     {"file", file}});
  }
  RETURN_IF_ERROR(WriteFileAtomically(
      a.output_dir + "/outputs.json",
      index.dump(2, ' ', false, nlohmann::json::error_handler_t::replace), 0644));
  std::cout << index.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  return absl::OkStatus();
}

// `--image`: what the server does with an image body before the engine call
// (probe, decode, preprocess by the model config's `input`, one row), so that
// the measured ceiling includes decoding like a served request does.
class ImageInputs {
 public:
  static absl::StatusOr<std::unique_ptr<ImageInputs>> Create(const Config& config, const Args& a,
                                                             const LoadedModel& model) {
    auto in = std::unique_ptr<ImageInputs>(
        new ImageInputs(StrCat(EnginePluginDir(config.engines), "/libcinfer_imgcodecs.so")));
    ASSIGN_OR_RETURN(in->bytes_, ReadFileToString(a.image));
    std::string text;
    if (!a.model_config.empty()) {
      ASSIGN_OR_RETURN(text, ReadFileToString(a.model_config));
    }
    ASSIGN_OR_RETURN(ModelConfig mc, ParseModelConfigText(text));
    RETURN_IF_ERROR(ApplyIoDefaults({{"inputs", TensorSpecsToJson(model.inputs())},
                                     {"outputs", TensorSpecsToJson(model.outputs())}},
                                    &mc));
    in->spec_ = mc.input;  // input.tensor resolved by ApplyIoDefaults
    return in;
  }
  absl::StatusOr<std::vector<Tensor>> Next() const {
    ASSIGN_OR_RETURN(cv::Mat bgr, vision::DecodeImage(codecs_, bytes_, vision::DecodeLimits{}));
    ASSIGN_OR_RETURN(vision::PreparedImage prepared, vision::PrepareImage(bgr, spec_));
    std::vector<Tensor> inputs;
    inputs.push_back(vision::OneRow(std::move(prepared), spec_.tensor));
    return inputs;
  }

 private:
  explicit ImageInputs(std::string library) : codecs_(std::move(library)) {}
  vision::ImageCodecs codecs_;
  std::string bytes_;
  InputSpec spec_;
};

absl::Status Bench(const Config& config, const Args& a) {
  ASSIGN_OR_RETURN(auto shapes, Shapes(a));
  auto registry = Registry(config, a.threads);
  std::string engine;
  ASSIGN_OR_RETURN(auto model, LoadFor(*registry, a, shapes, &engine));
  std::unique_ptr<ImageInputs> image;
  if (!a.image.empty()) {
    if (a.batch != 1) return ValidationError("--image runs batch 1 only");
    ASSIGN_OR_RETURN(image, ImageInputs::Create(config, a, *model));
  }
  ASSIGN_OR_RETURN(auto inputs,
                   image ? image->Next() : SyntheticInputs(model->inputs(), shapes, a.batch));
  for (int i = 0; i < 3; ++i) RETURN_IF_ERROR(model->Run(inputs).status());  // warm-up
  std::vector<double> latencies;
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + std::chrono::duration<double>(a.seconds);
  do {
    const auto t0 = std::chrono::steady_clock::now();
    if (image) {
      ASSIGN_OR_RETURN(inputs, image->Next());
    }
    RETURN_IF_ERROR(model->Run(inputs).status());
    latencies.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  } while (std::chrono::steady_clock::now() < until);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> sorted = latencies;
  std::sort(sorted.begin(), sorted.end());
  auto pct = [&](double p) {
    return sorted[std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()))];
  };
  double sum = 0;
  for (double l : latencies) sum += l;
  nlohmann::json shapes_json = nlohmann::json::object();
  for (const auto& t : inputs) shapes_json[t.name] = t.shape;
  nlohmann::json j = {
      {"engine", engine},
      {"model", std::filesystem::path(a.file).filename().string()},
      {"threads", a.threads},
      {"batch", a.batch},
      {"input_shapes", shapes_json},
      {"image", a.image.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.image)},
      {"iterations", latencies.size()},
      {"seconds", elapsed},
      {"throughput_per_s", static_cast<double>(latencies.size() * a.batch) / elapsed},
      {"latency_ms",
       {{"p50", pct(0.50)},
        {"p90", pct(0.90)},
        {"p99", pct(0.99)},
        {"mean", sum / latencies.size()}}}};
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  return absl::OkStatus();
}

void AddCommon(CLI::App* cmd, Args& a) {
  cmd->add_option("file", a.file, "Model file")->required();
  cmd->add_option("--engine", a.engine,
                  "onnxruntime | openvino | libtorch | opencv (default: by content)");
  cmd->add_option("--shape", a.shapes, "NAME=d1,d2,... fixes or resolves an input's shape");
  cmd->add_option("-c,--config", a.config_path, "YAML configuration (engine settings)");
}

CLI::App* AddBenchCommand(CLI::App* model, Args& a) {
  auto* bench =
      model->add_subcommand("bench", "Measure in-process inference latency and throughput");
  AddCommon(bench, a);
  bench->add_option("--threads", a.threads, "Intra-op threads");
  bench->add_option("--batch", a.batch, "Batch size (the first dimension)")
      ->check(CLI::Range(1, 4096));
  bench->add_option("--seconds", a.seconds, "Duration")->check(CLI::Range(0.1, 3600.0));
  bench->add_option("--image", a.image,
                    "Decode and preprocess this image for every run (batch 1), as the server does");
  bench->add_option("--model-config", a.model_config,
                    "Model config JSON whose `input` says how to preprocess --image");
  return bench;
}

}  // namespace

std::function<std::optional<int>()> AddModelCommands(CLI::App& app, ConfigLoader load_config,
                                                     std::string executable) {
  auto a = std::make_shared<Args>();
  auto* model = app.add_subcommand("model", "Inspect, validate, run and benchmark model files");
  model->require_subcommand(1);
  auto* inspect =
      model->add_subcommand("inspect", "Load a model in-process, describe it, test-infer");
  AddCommon(inspect, *a);
  inspect->add_option("--threads", a->threads, "Intra-op threads");
  auto* validate =
      model->add_subcommand("validate", "Inspect in an isolated, resource-limited child process");
  AddCommon(validate, *a);
  validate->add_option("--memory-mb", a->memory_mb, "Address-space limit of the child (MB)");
  validate->add_option("--cpu-seconds", a->cpu_seconds, "CPU-time limit of the child");
  validate->add_option("--timeout-s", a->timeout_s, "Wall-clock limit");
  auto* run = model->add_subcommand("run", "Run one inference on raw input files");
  AddCommon(run, *a);
  run->add_option("--input", a->inputs, "NAME=FILE with raw little-endian tensor bytes")
      ->required();
  run->add_option("--output-dir", a->output_dir, "Where outputs.json and the output bytes go")
      ->required();
  run->add_option("--threads", a->threads, "Intra-op threads");
  AddBenchCommand(model, *a);

  return [=]() -> std::optional<int> {
    if (!model->parsed()) return std::nullopt;
    auto config = load_config(a->config_path);
    if (!config) return 2;
    absl::Status st;
    if (inspect->parsed()) {
      auto shapes = Shapes(*a);
      if (!shapes.ok()) return PrintError(shapes.status());
      auto registry = Registry(*config, a->threads);
      auto report = InspectModel(*registry, a->file, {a->engine, *shapes, a->threads});
      if (!report.ok()) return PrintError(report.status());
      std::cout << ReportToJson(*report).dump(2, ' ', false,
                                              nlohmann::json::error_handler_t::replace)
                << std::endl;
      return 0;
    }
    if (validate->parsed()) {
      auto shapes = Shapes(*a);
      if (!shapes.ok()) return PrintError(shapes.status());
      ModelValidator validator({executable, a->config_path, a->memory_mb, a->cpu_seconds,
                                std::chrono::seconds(a->timeout_s)});
      auto report = validator.Validate(a->file, a->engine, *shapes);
      if (!report.ok()) return PrintError(report.status());
      std::cout << report->dump(2) << std::endl;
      return 0;
    }
    st = run->parsed() ? Run(*config, *a) : Bench(*config, *a);
    return st.ok() ? 0 : PrintError(st);
  };
}

}  // namespace cinfer::cli
