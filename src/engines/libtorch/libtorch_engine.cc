#include "engines/libtorch/libtorch_engine.h"

#include <ATen/Parallel.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>
#include <torch/version.h>

#include <algorithm>
#include <cstring>

#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engines/model_format.h"

namespace cinfer {
namespace {

constexpr std::pair<DataType, at::ScalarType> kTorchTypes[] = {
    {DataType::kBool, at::kBool},   {DataType::kUint8, at::kByte}, {DataType::kInt8, at::kChar},
    {DataType::kInt16, at::kShort}, {DataType::kInt32, at::kInt},  {DataType::kInt64, at::kLong},
    {DataType::kFp16, at::kHalf},   {DataType::kFp32, at::kFloat}, {DataType::kFp64, at::kDouble},
};

absl::StatusOr<at::ScalarType> ToTorch(DataType t) {
  for (const auto& [ours, theirs] : kTorchTypes) {
    if (ours == t) return theirs;
  }
  return absl::InvalidArgumentError("unsupported element type");
}

absl::StatusOr<DataType> FromTorch(at::ScalarType t) {
  for (const auto& [ours, theirs] : kTorchTypes) {
    if (theirs == t) return ours;
  }
  return absl::InvalidArgumentError(StrCat("unsupported output type ", c10::toString(t)));
}

absl::Status AppendOutput(const c10::IValue& v, std::vector<at::Tensor>& out) {
  if (v.isTensor()) {
    out.push_back(v.toTensor());
  } else if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) RETURN_IF_ERROR(AppendOutput(e, out));
  } else if (v.isList()) {
    for (const c10::IValue& e : v.toListRef()) RETURN_IF_ERROR(AppendOutput(e, out));
  } else {
    return absl::InvalidArgumentError(StrCat("model returned a ", v.tagKind(), ", not tensors"));
  }
  return absl::OkStatus();
}

class LibTorchModel final : public LoadedModel {
 public:
  LibTorchModel(torch::jit::Module module, std::vector<TensorSpec> inputs,
                std::vector<TensorSpec> outputs)
      : module_(std::move(module)), inputs_(std::move(inputs)), outputs_(std::move(outputs)) {}

  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& outputs() const override { return outputs_; }
  std::vector<std::string> devices() const override { return {"cpu"}; }
  bool SupportsConcurrentRun() const override { return true; }

  absl::StatusOr<std::vector<Tensor>> Run(const std::vector<Tensor>& inputs) const override {
    RETURN_IF_ERROR(CheckInputs(inputs_, inputs));
    try {
      c10::InferenceMode guard;
      std::vector<c10::IValue> args;
      for (const TensorSpec& spec : inputs_) {
        for (const Tensor& t : inputs) {
          if (t.name != spec.name) continue;
          ASSIGN_OR_RETURN(at::ScalarType type, ToTorch(t.dtype));
          args.emplace_back(torch::from_blob(const_cast<std::byte*>(t.data.data()), t.shape,
                                             torch::TensorOptions().dtype(type)));
        }
      }
      c10::IValue result = const_cast<torch::jit::Module&>(module_).forward(std::move(args));
      std::vector<at::Tensor> tensors;
      RETURN_IF_ERROR(AppendOutput(result, tensors));
      std::vector<Tensor> out;
      for (size_t i = 0; i < tensors.size(); ++i) {
        at::Tensor t = tensors[i].contiguous().cpu();
        ASSIGN_OR_RETURN(DataType dtype, FromTorch(t.scalar_type()));
        const std::string name = i < outputs_.size() ? outputs_[i].name : StrCat("output", i);
        ASSIGN_OR_RETURN(Tensor o,
                         MakeTensor(name, dtype, Shape(t.sizes().begin(), t.sizes().end())));
        if (!o.data.empty()) std::memcpy(o.data.data(), t.data_ptr(), o.data.size());
        out.push_back(std::move(o));
      }
      return out;
    } catch (const std::exception& e) {
      return EngineRunError("LibTorch", e.what());
    }
  }

 private:
  torch::jit::Module module_;
  std::vector<TensorSpec> inputs_, outputs_;
};

// Outputs named after the forward schema: a tuple of N gives output0..N-1.
std::vector<TensorSpec> OutputSpecs(const c10::FunctionSchema& schema) {
  size_t n = 1;
  if (!schema.returns().empty()) {
    if (auto tuple = schema.returns()[0].type()->cast<c10::TupleType>())
      n = tuple->elements().size();
  }
  std::vector<TensorSpec> specs;
  for (size_t i = 0; i < n; ++i) specs.push_back({StrCat("output", i), DataType::kFp32, {}});
  return specs;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LibTorchEngine>> LibTorchEngine::Create(const Options& options) {
  if (options.threads > 0) at::set_num_threads(options.threads);
  return std::unique_ptr<LibTorchEngine>(new LibTorchEngine(options));
}

absl::StatusOr<std::unique_ptr<LoadedModel>> LibTorchEngine::Load(const std::string& path,
                                                                  const LoadOptions& load) const {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  if (!LooksLikeTorchScript(bytes)) {
    return absl::InvalidArgumentError("the file is not a TorchScript archive (or it is truncated)");
  }
  try {
    {
      caffe2::serialize::PyTorchStreamReader reader(path);
      if (reader.version() > caffe2::serialize::kMaxSupportedFileFormatVersion) {
        return absl::InvalidArgumentError(
            StrCat("the TorchScript archive has format version ", reader.version(),
                   ", newer than this LibTorch (", TORCH_VERSION, ") reads (up to ",
                   caffe2::serialize::kMaxSupportedFileFormatVersion,
                   "); save it with PyTorch 1.13 or export the model to ONNX"));
      }
    }
    torch::jit::Module module = torch::jit::load(path, torch::kCPU);
    module.eval();
    const c10::FunctionSchema& schema = module.get_method("forward").function().getSchema();
    std::vector<TensorSpec> inputs;
    for (size_t i = 1; i < schema.arguments().size(); ++i) {  // 0 is self
      const auto& arg = schema.arguments()[i];
      if (!arg.type()->isSubtypeOf(*c10::TensorType::get())) {
        return absl::InvalidArgumentError(StrCat("forward argument '", arg.name(), "' is a ",
                                                 arg.type()->str(),
                                                 "; only tensors are supported"));
      }
      auto shape = load.input_shapes.find(arg.name());
      inputs.push_back({arg.name(), DataType::kFp32,
                        shape == load.input_shapes.end() ? Shape{} : shape->second});
    }
    return std::unique_ptr<LoadedModel>(
        new LibTorchModel(std::move(module), std::move(inputs), OutputSpecs(schema)));
  } catch (const std::exception& e) {
    std::string msg = e.what();
    msg = msg.substr(0, std::min(msg.find("\nException raised from"), msg.find("\nframe #")));
    if (size_t enforce = msg.find("] . ");
        msg.starts_with("[enforce fail") && enforce != std::string::npos) {
      msg = msg.substr(enforce + 4);
    }
    if (msg.find("version") != std::string::npos) {
      msg += " (the archive was saved by a newer PyTorch than this LibTorch " TORCH_VERSION
             " reads: save it with PyTorch 1.13, or export the model to ONNX)";
    }
    return EngineLoadError("LibTorch", msg);
  }
}

}  // namespace cinfer
