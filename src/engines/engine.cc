#include "engines/engine.h"

#include "common/errors.h"
#include "common/strings.h"

namespace cinfer {

absl::Status EngineRunError(std::string_view engine, std::string_view detail) {
  return WithHiddenDetail(
      absl::InvalidArgumentError(StrCat(engine, " failed: ", detail)),
      StrCat(engine,
             " could not run the model on these inputs (their shapes or values do not fit what "
             "the graph computes); the server log has the details under this request id"));
}

absl::Status EngineLoadError(std::string_view engine, std::string_view detail) {
  const std::string full = StrCat(engine, " could not load the model: ", detail);
  return WithHiddenDetail(absl::InvalidArgumentError(full), ScrubInternals(full));
}

absl::Status CheckInputs(const std::vector<TensorSpec>& declared,
                         const std::vector<Tensor>& inputs) {
  if (inputs.size() != declared.size()) {
    return ValidationError(
        StrCat("the model takes ", declared.size(), " input(s), got ", inputs.size()));
  }
  for (const TensorSpec& spec : declared) {
    const Tensor* t = nullptr;
    for (const Tensor& candidate : inputs) {
      if (candidate.name == spec.name) t = &candidate;
    }
    if (t == nullptr) return ValidationError(StrCat("missing input '", spec.name, "'"));
    if (t->dtype != spec.dtype) {
      return ValidationError(StrCat("input '", spec.name, "' must be ", DataTypeName(spec.dtype),
                                    ", got ", DataTypeName(t->dtype)));
    }
    bool shape_ok = spec.shape.empty() || t->shape.size() == spec.shape.size();
    for (size_t i = 0; shape_ok && i < spec.shape.size(); ++i) {
      shape_ok = spec.shape[i] < 0 || spec.shape[i] == t->shape[i];
    }
    if (!shape_ok) {
      return ValidationError(StrCat("input '", spec.name, "' has shape ", ShapeToString(t->shape),
                                    ", the model expects ", ShapeToString(spec.shape)));
    }
    for (size_t i = 0; i < t->shape.size(); ++i) {
      if (t->shape[i] < 1) {
        return ValidationError(StrCat("input '", spec.name, "' has shape ", ShapeToString(t->shape),
                                      ": dimension ", i, " must be at least 1"));
      }
    }
    auto count = ElementCount(t->shape);
    if (!count.ok())
      return ValidationError(StrCat("input '", spec.name, "': ", count.status().message()));
    if (*count * ElementSize(t->dtype) != t->data.size()) {
      return ValidationError(StrCat("input '", spec.name, "' holds ", t->data.size(),
                                    " bytes, its shape ", ShapeToString(t->shape), " needs ",
                                    *count * ElementSize(t->dtype)));
    }
  }
  return absl::OkStatus();
}

}  // namespace cinfer
