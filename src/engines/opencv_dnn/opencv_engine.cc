#include "engines/opencv_dnn/opencv_engine.h"

#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "common/file_util.h"
#include "common/mutex.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engines/onnx_proto.h"

namespace cinfer {
namespace {

class OpenCvModel final : public LoadedModel {
 public:
  OpenCvModel(cv::dnn::Net net, std::vector<TensorSpec> inputs, std::vector<TensorSpec> outputs)
      : net_(std::move(net)), inputs_(std::move(inputs)), outputs_(std::move(outputs)) {}

  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& outputs() const override { return outputs_; }
  std::vector<std::string> devices() const override { return {"opencv-cpu"}; }
  bool SupportsConcurrentRun() const override { return false; }

  absl::StatusOr<std::vector<Tensor>> Run(const std::vector<Tensor>& inputs) const override {
    RETURN_IF_ERROR(CheckInputs(inputs_, inputs));
    MutexLock lock(&mu_);
    try {
      for (const Tensor& t : inputs) {
        std::vector<int> dims(t.shape.begin(), t.shape.end());
        cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F,
                     const_cast<std::byte*>(t.data.data()));
        net_.setInput(blob, t.name);
      }
      std::vector<cv::String> names;
      for (const auto& o : outputs_) names.push_back(o.name);
      std::vector<cv::Mat> mats;
      net_.forward(mats, names);
      std::vector<Tensor> out;
      for (size_t i = 0; i < mats.size(); ++i) {
        cv::Mat m;
        mats[i].convertTo(m, CV_32F);
        if (!m.isContinuous()) m = m.clone();
        Shape shape(m.size.p, m.size.p + m.dims);
        ASSIGN_OR_RETURN(Tensor t, MakeTensor(outputs_[i].name, DataType::kFp32, shape));
        if (!t.data.empty()) std::memcpy(t.data.data(), m.data, t.data.size());
        out.push_back(std::move(t));
      }
      return out;
    } catch (const cv::Exception& e) {
      return EngineRunError("OpenCV DNN", e.what());
    }
  }

 private:
  mutable Mutex mu_;
  mutable cv::dnn::Net net_ ABSL_GUARDED_BY(mu_);
  std::vector<TensorSpec> inputs_, outputs_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<OpenCvDnnEngine>> OpenCvDnnEngine::Create(const Options& options) {
  // OpenCV's pool is process-wide and shared with LibTorch's TBB; only shrink it.
  if (options.threads > 0 && options.threads < cv::getNumThreads())
    cv::setNumThreads(options.threads);
  return std::unique_ptr<OpenCvDnnEngine>(new OpenCvDnnEngine());
}

absl::StatusOr<std::unique_ptr<LoadedModel>> OpenCvDnnEngine::Load(const std::string& path,
                                                                   const LoadOptions& load) const {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  if (!onnx::LooksLikeOnnx(bytes)) {
    return absl::InvalidArgumentError(
        "the OpenCV DNN engine reads ONNX models; this file is not one (or it is truncated)");
  }
  RETURN_IF_ERROR(onnx::CheckExternalDataLocations(bytes));
  ASSIGN_OR_RETURN(auto declared, onnx::GraphInputShapes(bytes));
  std::map<std::string, Shape> fixed;
  std::vector<TensorSpec> inputs;
  for (const auto& [name, shape] : declared) {
    auto given = load.input_shapes.find(name);
    const bool dynamic = std::any_of(shape.begin(), shape.end(), [](int64_t d) { return d < 0; });
    if (given != load.input_shapes.end()) {
      fixed[name] = given->second;
    } else if (dynamic) {
      return absl::InvalidArgumentError(
          StrCat("OpenCV DNN 4.6 cannot import ONNX graphs with dynamic input shapes: input '",
                 name, "' is ", ShapeToString(shape), "; give it a fixed shape (e.g. --shape ",
                 name, "=1,3,48,192, or the input size in the model config)"));
    }
    inputs.push_back({name, DataType::kFp32, fixed.count(name) ? fixed[name] : shape});
  }
  ASSIGN_OR_RETURN(std::string model, onnx::WithFixedInputShapes(bytes, fixed));
  try {
    cv::dnn::Net net = cv::dnn::readNetFromONNX(model.data(), model.size());
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    std::vector<TensorSpec> outputs;
    for (const auto& name : net.getUnconnectedOutLayersNames()) {
      outputs.push_back({name, DataType::kFp32, {}});
    }
    return std::unique_ptr<LoadedModel>(
        new OpenCvModel(std::move(net), std::move(inputs), std::move(outputs)));
  } catch (const cv::Exception& e) {
    return EngineLoadError("OpenCV DNN", e.what());
  }
}

}  // namespace cinfer
