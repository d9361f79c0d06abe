// Preprocessing: a decoded BGR image → one row of the model's input tensor,
// as the model config's InputSpec says (resize mode, colour order,
// scale/mean/std, layout, element type), plus the transform that maps model
// coordinates back to original image pixels. Thread-safe, stateless.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "engines/tensor.h"
#include "opencv2/core.hpp"
#include "vision/specs.h"

namespace cinfer::vision {

// Model-input pixel coordinates → original image pixels:
//   x_orig = (x_model - offset_x) / scale_x,  y_orig = (y_model - offset_y) / scale_y
// then clamped to [0, width] × [0, height] by the caller when it needs to.
// stretch: offsets 0, scale = target / original per axis; letterbox: one scale,
// offsets = the padding (left, top); center_crop: one scale, offsets = minus the crop.
struct ImageTransform {
  int64_t width = 0;  // original image size (after EXIF orientation)
  int64_t height = 0;
  double scale_x = 1, scale_y = 1;
  double offset_x = 0, offset_y = 0;

  double ToOriginalX(double x) const { return (x - offset_x) / scale_x; }
  double ToOriginalY(double y) const { return (y - offset_y) / scale_y; }
};

// One preprocessed image: `data` holds exactly one batch row of the input
// tensor (C*H*W or H*W*C elements of `dtype`, row-major, little-endian).
struct PreparedImage {
  DataType dtype = DataType::kFp32;
  Shape row_shape;  // without the batch dimension: {3, H, W} (NCHW) or {H, W, 3} (NHWC)
  std::vector<std::byte> data;
  ImageTransform transform;
};

// `spec` must have width, height, layout and dtype set (ApplyIoDefaults);
// VALIDATION_FAILED (422) naming the field otherwise. Supported dtypes: FP32,
// FP16, FP64, UINT8 (UINT8/INT8 skip normalisation: raw 0..255 pixels after
// resize and colour order; INT8 is refused).
absl::StatusOr<PreparedImage> PrepareImage(const cv::Mat& bgr, const InputSpec& spec);

// Stacks prepared rows (same dtype and row_shape) into one tensor named
// `name` with shape {rows.size(), row_shape...}.
absl::StatusOr<Tensor> StackRows(const std::vector<const PreparedImage*>& rows,
                                 const std::string& name);
// One image as a one-row tensor, its pixels moved rather than copied.
Tensor OneRow(PreparedImage&& row, const std::string& name);

}  // namespace cinfer::vision
