#include "engines/onnxruntime/onnxruntime_engine.h"

#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <utility>

#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engines/onnx_proto.h"

namespace cinfer {
namespace {

constexpr std::pair<DataType, ONNXTensorElementDataType> kOnnxTypes[] = {
    {DataType::kBool, ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL},
    {DataType::kUint8, ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8},
    {DataType::kInt8, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8},
    {DataType::kInt16, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16},
    {DataType::kInt32, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32},
    {DataType::kInt64, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64},
    {DataType::kFp16, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16},
    {DataType::kFp32, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT},
    {DataType::kFp64, ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE},
};

absl::StatusOr<DataType> FromOnnx(ONNXTensorElementDataType t) {
  for (const auto& [ours, theirs] : kOnnxTypes) {
    if (theirs == t) return ours;
  }
  return absl::InvalidArgumentError(StrCat("unsupported ONNX element type ", static_cast<int>(t)));
}

ONNXTensorElementDataType ToOnnx(DataType t) {
  for (const auto& [ours, theirs] : kOnnxTypes) {
    if (ours == t) return theirs;
  }
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

class OnnxRuntimeModel final : public LoadedModel {
 public:
  OnnxRuntimeModel(std::unique_ptr<Ort::Session> session, std::vector<TensorSpec> inputs,
                   std::vector<TensorSpec> outputs, std::vector<std::string> devices,
                   std::string fallback)
      : session_(std::move(session)),
        inputs_(std::move(inputs)),
        outputs_(std::move(outputs)),
        devices_(std::move(devices)),
        fallback_(std::move(fallback)),
        memory_(Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault)) {
    for (const auto& s : inputs_) input_names_.push_back(s.name.c_str());
    for (const auto& s : outputs_) output_names_.push_back(s.name.c_str());
  }

  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& outputs() const override { return outputs_; }
  std::vector<std::string> devices() const override { return devices_; }
  std::string fallback_reason() const override { return fallback_; }
  bool SupportsConcurrentRun() const override { return true; }  // Session::Run is thread-safe

  absl::StatusOr<std::vector<Tensor>> Run(const std::vector<Tensor>& inputs) const override {
    RETURN_IF_ERROR(CheckInputs(inputs_, inputs));
    try {
      std::vector<Ort::Value> values;
      values.reserve(inputs_.size());
      for (const TensorSpec& spec : inputs_) {
        const Tensor& t = *std::find_if(inputs.begin(), inputs.end(),
                                        [&](const Tensor& x) { return x.name == spec.name; });
        values.push_back(Ort::Value::CreateTensor(memory_, const_cast<std::byte*>(t.data.data()),
                                                  t.data.size(), t.shape.data(), t.shape.size(),
                                                  ToOnnx(t.dtype)));
      }
      auto results = session_->Run(Ort::RunOptions{nullptr}, input_names_.data(), values.data(),
                                   values.size(), output_names_.data(), output_names_.size());
      std::vector<Tensor> out;
      out.reserve(results.size());
      for (size_t i = 0; i < results.size(); ++i) {
        auto info = results[i].GetTensorTypeAndShapeInfo();
        ASSIGN_OR_RETURN(DataType dtype, FromOnnx(info.GetElementType()));
        ASSIGN_OR_RETURN(Tensor t, MakeTensor(outputs_[i].name, dtype, info.GetShape()));
        if (!t.data.empty()) {
          std::memcpy(t.data.data(), results[i].GetTensorRawData(), t.data.size());
        }
        out.push_back(std::move(t));
      }
      return out;
    } catch (const std::exception& e) {
      return EngineRunError("ONNX Runtime", e.what());
    }
  }

 private:
  std::unique_ptr<Ort::Session> session_;
  std::vector<TensorSpec> inputs_, outputs_;
  std::vector<std::string> devices_;
  std::string fallback_;
  Ort::MemoryInfo memory_;
  std::vector<const char*> input_names_, output_names_;
};

absl::StatusOr<std::vector<TensorSpec>> Describe(const Ort::Session& s, bool inputs) {
  Ort::AllocatorWithDefaultOptions alloc;
  std::vector<TensorSpec> specs;
  const size_t n = inputs ? s.GetInputCount() : s.GetOutputCount();
  for (size_t i = 0; i < n; ++i) {
    auto name = inputs ? s.GetInputNameAllocated(i, alloc) : s.GetOutputNameAllocated(i, alloc);
    auto type = inputs ? s.GetInputTypeInfo(i) : s.GetOutputTypeInfo(i);
    if (type.GetONNXType() != ONNX_TYPE_TENSOR) {
      return absl::InvalidArgumentError(
          StrCat(inputs ? "input '" : "output '", name.get(),
                 "' is not a tensor (sequences and maps are not supported)"));
    }
    auto info = type.GetTensorTypeAndShapeInfo();
    ASSIGN_OR_RETURN(DataType dtype, FromOnnx(info.GetElementType()));
    Shape shape = info.GetShape();
    for (auto& d : shape) d = d < 0 ? -1 : d;
    specs.push_back({name.get(), dtype, std::move(shape)});
  }
  return specs;
}

}  // namespace

struct OnnxRuntimeEngine::State {
  Options options;
  Ort::Env env{ORT_LOGGING_LEVEL_ERROR, "cinfer"};
  std::vector<std::string> available;
};

OnnxRuntimeEngine::OnnxRuntimeEngine(std::unique_ptr<State> state) : state_(std::move(state)) {}
OnnxRuntimeEngine::~OnnxRuntimeEngine() = default;

absl::StatusOr<std::unique_ptr<OnnxRuntimeEngine>> OnnxRuntimeEngine::Create(
    const Options& options) {
  try {
    auto state = std::make_unique<State>();
    // No usage reports (docs/SECURITY.md). main() also sets ORT_DISABLE_TELEMETRY=1
    // before anything runs, which is what keeps ONNX Runtime 1.29's 1DS client
    // from starting at all; this call covers builds that honour only the API.
    state->env.DisableTelemetryEvents();
    state->options = options;
    state->available = Ort::GetAvailableProviders();
    return std::unique_ptr<OnnxRuntimeEngine>(new OnnxRuntimeEngine(std::move(state)));
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("ONNX Runtime init failed: ", e.what()));
  }
}

absl::StatusOr<std::unique_ptr<LoadedModel>> OnnxRuntimeEngine::Load(
    const std::string& path, const LoadOptions& load) const {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  if (!onnx::LooksLikeOnnx(bytes)) {
    return absl::InvalidArgumentError("the file is not an ONNX model (or it is truncated)");
  }
  RETURN_IF_ERROR(onnx::CheckExternalDataLocations(bytes));
  const Options& o = state_->options;
  try {
    Ort::SessionOptions so;
    so.SetIntraOpNumThreads(load.intra_op_threads > 0 ? load.intra_op_threads : o.intra_op_threads);
    so.SetInterOpNumThreads(o.inter_op_threads);
    if (!load.allow_spinning) so.AddConfigEntry("session.intra_op.allow_spinning", "0");
    so.SetGraphOptimizationLevel(o.graph_optimization == "disable"    ? ORT_DISABLE_ALL
                                 : o.graph_optimization == "basic"    ? ORT_ENABLE_BASIC
                                 : o.graph_optimization == "extended" ? ORT_ENABLE_EXTENDED
                                                                      : ORT_ENABLE_ALL);
    std::vector<std::string> devices;
    std::string fallback;
    for (const std::string& ep : o.execution_providers) {
      if (ep == "CPUExecutionProvider") continue;
      const bool present = std::find(state_->available.begin(), state_->available.end(), ep) !=
                           state_->available.end();
      if (!present) {
        fallback += StrCat(fallback.empty() ? "" : "; ", ep,
                           " is not available in this ONNX Runtime build (available: ",
                           Join(state_->available, ", "), "); running on CPU");
        continue;
      }
      try {
        // The V2 options come from ONNX Runtime with its own defaults (the V1 TensorRT
        // struct value-initialised would set e.g. trt_max_partition_iterations to 0).
        if (ep == "CUDAExecutionProvider") {
          Ort::CUDAProviderOptions cuda;
          so.AppendExecutionProvider_CUDA_V2(*cuda);
        } else if (ep == "TensorrtExecutionProvider") {
          Ort::TensorRTProviderOptions trt;
          so.AppendExecutionProvider_TensorRT_V2(*trt);
        } else {
          so.AppendExecutionProvider(ep.substr(0, ep.find("ExecutionProvider")), {});
        }
        devices.push_back(ep);
      } catch (const Ort::Exception& e) {
        fallback += StrCat(fallback.empty() ? "" : "; ", ep, " failed to initialise (", e.what(),
                           "); running on CPU");
      }
    }
    devices.push_back("CPUExecutionProvider");
    auto session = std::make_unique<Ort::Session>(state_->env, path.c_str(), so);
    ASSIGN_OR_RETURN(auto inputs, Describe(*session, true));
    ASSIGN_OR_RETURN(auto outputs, Describe(*session, false));
    return std::unique_ptr<LoadedModel>(new OnnxRuntimeModel(
        std::move(session), std::move(inputs), std::move(outputs), std::move(devices), fallback));
  } catch (const Ort::Exception& e) {
    return EngineLoadError("ONNX Runtime", e.what());
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(StrCat("could not load the model: ", e.what()));
  }
}

}  // namespace cinfer
