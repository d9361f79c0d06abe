#include "engines/openvino/openvino_engine.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <openvino/frontend/manager.hpp>
#include <openvino/openvino.hpp>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "common/file_util.h"
#include "common/mutex.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engines/model_format.h"
#include "engines/onnx_proto.h"

namespace cinfer {
namespace {

namespace fs = std::filesystem;

// The name the engine's errors carry (like "ONNX Runtime" for that engine).
constexpr std::string_view kEngine = "OpenVINO";
// Upper bound for the thread and stream counts of the options.
constexpr int kMaxCount = 1024;

constexpr std::pair<DataType, ov::element::Type_t> kOvTypes[] = {
    {DataType::kBool, ov::element::Type_t::boolean}, {DataType::kUint8, ov::element::Type_t::u8},
    {DataType::kInt8, ov::element::Type_t::i8},      {DataType::kInt16, ov::element::Type_t::i16},
    {DataType::kInt32, ov::element::Type_t::i32},    {DataType::kInt64, ov::element::Type_t::i64},
    {DataType::kFp16, ov::element::Type_t::f16},     {DataType::kFp32, ov::element::Type_t::f32},
    {DataType::kFp64, ov::element::Type_t::f64},
};

std::optional<DataType> FromOv(const ov::element::Type& t) {
  for (const auto& [ours, theirs] : kOvTypes) {
    if (ov::element::Type(theirs) == t) return ours;
  }
  return std::nullopt;
}

ov::element::Type ToOv(DataType t) {
  for (const auto& [ours, theirs] : kOvTypes) {
    if (ours == t) return theirs;
  }
  return ov::element::Type_t::dynamic;
}

absl::StatusOr<ov::hint::PerformanceMode> ParseHint(std::string_view hint) {
  if (hint == "latency") return ov::hint::PerformanceMode::LATENCY;
  if (hint == "throughput") return ov::hint::PerformanceMode::THROUGHPUT;
  return absl::InvalidArgumentError(StrCat(
      "OpenVINO performance_hint must be \"latency\" or \"throughput\", got \"", hint, "\""));
}

absl::Status CheckCount(int value, std::string_view what) {
  if (value >= 0 && value <= kMaxCount) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat("OpenVINO ", what, " must be between 0 and ", kMaxCount,
                                           " (0: automatic), got ", value));
}

Shape ToShape(const ov::PartialShape& shape) {
  if (shape.rank().is_dynamic()) return {};
  Shape out;
  for (const ov::Dimension& d : shape) out.push_back(d.is_static() ? d.get_length() : -1);
  return out;
}

struct ModelFile {
  ModelFormat format = ModelFormat::kUnknown;
  std::string weights;  // the IR's .bin, the Paddle program's .pdiparams; empty: none
};

// `path` with `extension` for its own; empty when no such regular file exists.
std::string Companion(const std::string& path, const char* extension) {
  const fs::path companion = fs::path(path).replace_extension(extension);
  std::error_code ec;
  if (companion == fs::path(path) || !fs::is_regular_file(companion, ec)) return {};
  return companion.string();
}

// Recognises the model at `path` by content and checks what can be checked
// before OpenVINO reads it: ONNX external-data locations stay inside the
// model's folder, and an IR's weights file exists. Other formats never reach
// OpenVINO, whose remaining frontends (TensorFlow, ...) would try to parse them.
absl::StatusOr<ModelFile> CheckModelFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  const ModelFormat format = SniffModelFormat(bytes);
  switch (format) {
    case ModelFormat::kOnnx:
      RETURN_IF_ERROR(onnx::CheckExternalDataLocations(bytes));
      return ModelFile{format, ""};
    case ModelFormat::kOpenVinoIr: {
      std::string bin = Companion(path, ".bin");
      if (bin.empty()) {
        return absl::InvalidArgumentError(StrCat(
            "the IR weights file ", fs::path(path).replace_extension(".bin").filename().string(),
            " is missing (it belongs next to the .xml, with the same name)"));
      }
      return ModelFile{format, std::move(bin)};
    }
    case ModelFormat::kPaddle:  // a program without parameters has no .pdiparams
      return ModelFile{format, Companion(path, ".pdiparams")};
    default:
      return absl::InvalidArgumentError(
          "the file is not an ONNX, OpenVINO IR or PaddlePaddle model (or it is truncated)");
  }
}

// Throws what OpenVINO throws.
std::shared_ptr<ov::Model> ReadModel(const ov::Core& core, const std::string& path,
                                     const ModelFile& file) {
  if (file.format != ModelFormat::kPaddle) return core.read_model(path, file.weights);
  // Straight to the Paddle frontend, with streams so that the file name does
  // not matter: Core::read_model takes only *.pdmodel paths, and offers the
  // file to the TensorFlow frontend first, which logs its failed parse to stderr.
  ov::frontend::FrontEndManager manager;
  ov::frontend::FrontEnd::Ptr frontend = manager.load_by_framework("paddle");
  if (frontend == nullptr) throw std::runtime_error("the PaddlePaddle frontend is not installed");
  std::ifstream program(path, std::ios::binary);
  std::ifstream params;
  if (!file.weights.empty()) params.open(file.weights, std::ios::binary);
  if (!program || (!file.weights.empty() && !params)) {
    throw std::runtime_error("cannot open the PaddlePaddle model files");
  }
  ov::frontend::InputModel::Ptr input = file.weights.empty()
                                            ? frontend->load(static_cast<std::istream*>(&program))
                                            : frontend->load(static_cast<std::istream*>(&program),
                                                             static_cast<std::istream*>(&params));
  return frontend->convert(input);
}

// The compile properties from the engine's options and the model's overrides.
absl::StatusOr<ov::AnyMap> CompileConfig(const OpenVinoEngine::Options& o,
                                         const LoadOptions& load) {
  ASSIGN_OR_RETURN(
      ov::hint::PerformanceMode mode,
      ParseHint(load.performance_hint.empty() ? o.performance_hint : load.performance_hint));
  RETURN_IF_ERROR(CheckCount(load.streams, "streams"));
  const int streams = load.streams > 0 ? load.streams : o.streams;
  const int threads = load.intra_op_threads > 0 ? load.intra_op_threads : o.threads;
  RETURN_IF_ERROR(CheckCount(threads, "threads"));
  ov::AnyMap config;
  config.insert(ov::hint::performance_mode(mode));
  // The same numbers on every CPU: on one with AVX512-BF16 or AMX, OpenVINO's CPU
  // plugin would otherwise run FP32 models in bf16 (a Paddle fixture then differed
  // from Paddle by 2.7e-3 instead of 1e-7; docs/ENGINES.md).
  config.insert(ov::hint::inference_precision(ov::element::f32));
  if (streams > 0) config.insert(ov::num_streams(ov::streams::Num(streams)));
  if (threads > 0) config.insert(ov::inference_num_threads(threads));
  return config;
}

// Fixes input shapes from `given` (by any of an input's names). A given shape
// must fit the declared one (same rank, same fixed dimensions).
absl::Status ApplyInputShapes(ov::Model& model, const std::map<std::string, Shape>& given) {
  std::map<size_t, ov::PartialShape> reshape;
  const std::vector<ov::Output<ov::Node>> inputs = model.inputs();
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto match = std::find_if(given.begin(), given.end(), [&](const auto& entry) {
      return inputs[i].get_names().count(entry.first) > 0;
    });
    if (match == given.end()) continue;
    const auto& [name, dims] = *match;
    if (std::any_of(dims.begin(), dims.end(), [](int64_t d) { return d < 1; })) {
      return absl::InvalidArgumentError(StrCat("the shape given for input '", name, "' (",
                                               ShapeToString(dims), ") has a dimension below 1"));
    }
    const ov::PartialShape want(ov::Shape(dims.begin(), dims.end()));
    const ov::PartialShape& declared = inputs[i].get_partial_shape();
    if (!declared.compatible(want)) {
      return absl::InvalidArgumentError(StrCat("the shape given for input '", name, "' (",
                                               ShapeToString(dims), ") does not fit its shape ",
                                               ShapeToString(ToShape(declared))));
    }
    if (declared != want) reshape.emplace(i, want);
  }
  if (!reshape.empty()) model.reshape(reshape);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TensorSpec>> Describe(const std::vector<ov::Output<ov::Node>>& ports,
                                                 std::string_view kind) {
  std::vector<TensorSpec> specs;
  for (size_t i = 0; i < ports.size(); ++i) {
    const ov::Output<ov::Node>& port = ports[i];
    std::string name = port.get_names().empty() ? StrCat(kind, i) : port.get_any_name();
    std::optional<DataType> dtype = FromOv(port.get_element_type());
    if (!dtype) {
      return absl::InvalidArgumentError(StrCat(kind, " '", name, "' has the element type ",
                                               port.get_element_type().get_type_name(),
                                               ", which this server does not support"));
    }
    specs.push_back({std::move(name), *dtype, ToShape(port.get_partial_shape())});
  }
  return specs;
}

// The InferRequests of one compiled model not in use at the moment.
class InferRequestPool {
 public:
  explicit InferRequestPool(ov::CompiledModel compiled) : compiled_(std::move(compiled)) {}

  // A free request, or a new one. Throws what OpenVINO throws.
  std::unique_ptr<ov::InferRequest> Acquire() {
    MutexLock<Mutex> lock(&mu_);
    if (free_.empty()) return std::make_unique<ov::InferRequest>(compiled_.create_infer_request());
    std::unique_ptr<ov::InferRequest> request = std::move(free_.back());
    free_.pop_back();
    return request;
  }
  void Release(std::unique_ptr<ov::InferRequest> request) {
    MutexLock<Mutex> lock(&mu_);
    free_.push_back(std::move(request));
  }

 private:
  ov::CompiledModel compiled_;
  Mutex mu_;
  std::vector<std::unique_ptr<ov::InferRequest>> free_ ABSL_GUARDED_BY(mu_);
};

class OpenVinoModel final : public LoadedModel {
 public:
  OpenVinoModel(ov::CompiledModel compiled, std::vector<TensorSpec> inputs,
                std::vector<TensorSpec> outputs)
      : pool_(std::move(compiled)), inputs_(std::move(inputs)), outputs_(std::move(outputs)) {}

  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& outputs() const override { return outputs_; }
  std::vector<std::string> devices() const override { return {"CPU"}; }
  bool SupportsConcurrentRun() const override { return true; }  // one request per Run

  absl::StatusOr<std::vector<Tensor>> Run(const std::vector<Tensor>& inputs) const override {
    RETURN_IF_ERROR(CheckInputs(inputs_, inputs));
    try {
      // Dropped, not handed back, when anything below fails.
      std::unique_ptr<ov::InferRequest> request = pool_.Acquire();
      for (size_t i = 0; i < inputs_.size(); ++i) {
        const Tensor& t = *std::find_if(inputs.begin(), inputs.end(),
                                        [&](const Tensor& x) { return x.name == inputs_[i].name; });
        // OpenVINO reads the caller's buffer in place; it does not write to inputs.
        request->set_input_tensor(
            i, ov::Tensor(ToOv(t.dtype), ov::Shape(t.shape.begin(), t.shape.end()),
                          const_cast<std::byte*>(t.data.data())));
      }
      request->infer();
      ASSIGN_OR_RETURN(std::vector<Tensor> out, CopyOutputs(*request));
      pool_.Release(std::move(request));
      return out;
    } catch (const std::exception& e) {
      return EngineRunError(kEngine, e.what());
    }
  }

 private:
  absl::StatusOr<std::vector<Tensor>> CopyOutputs(ov::InferRequest& request) const {
    std::vector<Tensor> out;
    out.reserve(outputs_.size());
    for (size_t i = 0; i < outputs_.size(); ++i) {
      const ov::Tensor result = request.get_output_tensor(i);
      std::optional<DataType> dtype = FromOv(result.get_element_type());
      if (!dtype) {
        return absl::InternalError(StrCat("OpenVINO returned output '", outputs_[i].name, "' as ",
                                          result.get_element_type().get_type_name()));
      }
      const ov::Shape& shape = result.get_shape();
      ASSIGN_OR_RETURN(Tensor t,
                       MakeTensor(outputs_[i].name, *dtype, Shape(shape.begin(), shape.end())));
      if (!t.data.empty()) {
        // copy_to also lays out a strided result densely.
        result.copy_to(ov::Tensor(result.get_element_type(), shape, t.data.data()));
      }
      out.push_back(std::move(t));
    }
    return out;
  }

  mutable InferRequestPool pool_;
  std::vector<TensorSpec> inputs_, outputs_;
};

}  // namespace

struct OpenVinoEngine::State {
  Options options;
  ov::Core core;
};

OpenVinoEngine::OpenVinoEngine(std::unique_ptr<State> state) : state_(std::move(state)) {}
OpenVinoEngine::~OpenVinoEngine() = default;

absl::StatusOr<std::unique_ptr<OpenVinoEngine>> OpenVinoEngine::Create(const Options& options) {
  RETURN_IF_ERROR(CheckCount(options.threads, "threads"));
  RETURN_IF_ERROR(CheckCount(options.streams, "streams"));
  RETURN_IF_ERROR(ParseHint(options.performance_hint).status());
  try {
    auto state = std::make_unique<State>();
    state->options = options;
    state->core.get_versions("CPU");  // loads the CPU plugin now: a missing one fails here
    return std::unique_ptr<OpenVinoEngine>(new OpenVinoEngine(std::move(state)));
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("OpenVINO init failed: ", e.what()));
  }
}

absl::StatusOr<std::unique_ptr<LoadedModel>> OpenVinoEngine::Load(const std::string& path,
                                                                  const LoadOptions& load) const {
  ASSIGN_OR_RETURN(ov::AnyMap config, CompileConfig(state_->options, load));
  ASSIGN_OR_RETURN(ModelFile file, CheckModelFile(path));
  try {
    std::shared_ptr<ov::Model> model = ReadModel(state_->core, path, file);
    RETURN_IF_ERROR(ApplyInputShapes(*model, load.input_shapes));
    ASSIGN_OR_RETURN(auto inputs, Describe(model->inputs(), "input"));
    ASSIGN_OR_RETURN(auto outputs, Describe(model->outputs(), "output"));
    ov::CompiledModel compiled = state_->core.compile_model(model, "CPU", config);
    return std::unique_ptr<LoadedModel>(
        new OpenVinoModel(std::move(compiled), std::move(inputs), std::move(outputs)));
  } catch (const std::exception& e) {
    return EngineLoadError(kEngine, e.what());
  }
}

}  // namespace cinfer
