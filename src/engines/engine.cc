#include "engines/engine.h"

#include "common/errors.h"
#include "common/strings.h"

namespace cinfer {

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
