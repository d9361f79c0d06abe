#include "vision/preprocess.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engines/tensor_json.h"
#include "opencv2/imgproc.hpp"

namespace cinfer::vision {
namespace {

constexpr int64_t kMaxSide = 32768;  // model inputs are far smaller; keeps sizes in int

absl::Status CheckSpec(const InputSpec& spec) {
  if (spec.width <= 0 || spec.width > kMaxSide) {
    return ValidationError(StrCat("input.width must be 1..", kMaxSide, ", got ", spec.width));
  }
  if (spec.height <= 0 || spec.height > kMaxSide) {
    return ValidationError(StrCat("input.height must be 1..", kMaxSide, ", got ", spec.height));
  }
  if (!spec.layout.has_value()) return ValidationError("input.layout is not set");
  if (!spec.dtype.has_value()) return ValidationError("input.dtype is not set");
  switch (*spec.dtype) {
    case DataType::kFp32:
    case DataType::kFp16:
    case DataType::kFp64:
    case DataType::kUint8:
      break;
    default:
      return ValidationError(StrCat("input.dtype ", DataTypeName(*spec.dtype),
                                    " is not supported for images (FP32, FP16, FP64, UINT8)"));
  }
  for (double s : spec.std) {
    if (!(s > 0)) return ValidationError("input.std entries must be > 0");
  }
  if (spec.pad_value < 0 || spec.pad_value > 255) {
    return ValidationError("input.pad_value must be 0..255");
  }
  return absl::OkStatus();
}

cv::Mat ResizeTo(const cv::Mat& src, int width, int height) {
  if (src.cols == width && src.rows == height) return src;
  cv::Mat out;
  cv::resize(src, out, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
  return out;
}

int Scaled(int size, double scale) {
  return static_cast<int>(std::max<long>(1, std::lround(size * scale)));
}

// Resizes `bgr` to the model's input size as `spec.resize` says; fills `transform`.
cv::Mat Resize(const cv::Mat& bgr, const InputSpec& spec, ImageTransform* transform) {
  const int w = bgr.cols, h = bgr.rows;
  const int tw = static_cast<int>(spec.width), th = static_cast<int>(spec.height);
  const double sx = static_cast<double>(tw) / w, sy = static_cast<double>(th) / h;
  *transform = {.width = w, .height = h};
  switch (spec.resize) {
    case ResizeMode::kStretch:
      transform->scale_x = sx;
      transform->scale_y = sy;
      return ResizeTo(bgr, tw, th);
    case ResizeMode::kLetterbox: {
      const double s = std::min(sx, sy);
      const int nw = std::min(Scaled(w, s), tw), nh = std::min(Scaled(h, s), th);
      const int left = (tw - nw) / 2, top = (th - nh) / 2;
      cv::Mat out;
      cv::copyMakeBorder(ResizeTo(bgr, nw, nh), out, top, th - nh - top, left, tw - nw - left,
                         cv::BORDER_CONSTANT, cv::Scalar::all(spec.pad_value));
      *transform = {w, h, s, s, static_cast<double>(left), static_cast<double>(top)};
      return out;
    }
    case ResizeMode::kCenterCrop: {
      const double s = std::max(sx, sy);
      const int nw = std::max(Scaled(w, s), tw), nh = std::max(Scaled(h, s), th);
      const int x0 = (nw - tw) / 2, y0 = (nh - th) / 2;
      *transform = {w, h, s, s, static_cast<double>(-x0), static_cast<double>(-y0)};
      return ResizeTo(bgr, nw, nh)(cv::Rect(x0, y0, tw, th));
    }
  }
  return bgr;
}

// Per channel, every 8-bit pixel value → its output element: 256 entries make
// normalisation one table look-up per element, exact in double.
template <class T>
using Lut = std::array<std::array<T, 256>, 3>;

template <class T, class Convert>
Lut<T> MakeLut(const InputSpec& spec, bool normalise, Convert convert) {
  Lut<T> lut;
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      const double x = normalise ? (v * spec.scale - spec.mean[c]) / spec.std[c] : v;
      lut[c][v] = convert(x);
    }
  }
  return lut;
}

// Writes the 3-channel 8-bit BGR `image` through `lut` as planar (NCHW) or
// interleaved (NHWC) elements of T, in RGB order when kRgb (the channel swap
// folded into this one pass instead of a cvtColor pass and a copy).
template <class T, bool kRgb>
std::vector<std::byte> Emit(const cv::Mat& image, Layout layout, const Lut<T>& lut) {
  constexpr int k0 = kRgb ? 2 : 0, k2 = kRgb ? 0 : 2;  // source byte of output channels 0, 2
  const size_t plane = static_cast<size_t>(image.rows) * image.cols;
  std::vector<std::byte> data(plane * 3 * sizeof(T));
  T* out = reinterpret_cast<T*>(data.data());
  for (int y = 0; y < image.rows; ++y) {
    const uint8_t* p = image.ptr<uint8_t>(y);
    const size_t row = static_cast<size_t>(y) * image.cols;
    if (layout == Layout::kNhwc) {
      T* o = out + row * 3;
      for (int i = 0; i < image.cols * 3; i += 3) {
        o[i] = lut[0][p[i + k0]];
        o[i + 1] = lut[1][p[i + 1]];
        o[i + 2] = lut[2][p[i + k2]];
      }
    } else {
      T* c0 = out + row;
      T* c1 = c0 + plane;
      T* c2 = c1 + plane;
      for (int x = 0; x < image.cols; ++x, p += 3) {
        c0[x] = lut[0][p[k0]];
        c1[x] = lut[1][p[1]];
        c2[x] = lut[2][p[k2]];
      }
    }
  }
  return data;
}

template <class T>
std::vector<std::byte> Emit(const cv::Mat& image, const InputSpec& spec, const Lut<T>& lut) {
  return spec.color == ColorOrder::kRgb ? Emit<T, true>(image, *spec.layout, lut)
                                        : Emit<T, false>(image, *spec.layout, lut);
}

std::vector<std::byte> Convert(const cv::Mat& image, const InputSpec& spec) {
  switch (*spec.dtype) {
    case DataType::kFp16:
      return Emit(image, spec, MakeLut<uint16_t>(spec, true, [](double v) {
                    return FloatToHalf(static_cast<float>(v));
                  }));
    case DataType::kFp64:
      return Emit(image, spec, MakeLut<double>(spec, true, [](double v) { return v; }));
    case DataType::kUint8:
      return Emit(image, spec,
                  MakeLut<uint8_t>(spec, false, [](double v) { return static_cast<uint8_t>(v); }));
    default:  // FP32; CheckSpec refused the rest
      return Emit(image, spec,
                  MakeLut<float>(spec, true, [](double v) { return static_cast<float>(v); }));
  }
}

}  // namespace

absl::StatusOr<PreparedImage> PrepareImage(const cv::Mat& bgr, const InputSpec& spec) {
  RETURN_IF_ERROR(CheckSpec(spec));
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    return ValidationError("preprocessing needs a non-empty 8-bit 3-channel BGR image");
  }
  PreparedImage prepared;
  prepared.dtype = *spec.dtype;
  try {
    // The padding is grey, so the channel order (applied by Convert) does not matter to it.
    const cv::Mat image = Resize(bgr, spec, &prepared.transform);
    prepared.data = Convert(image, spec);
  } catch (const cv::Exception& e) {
    return absl::InternalError(StrCat("preprocessing failed: ", e.what()));
  }
  prepared.row_shape = *spec.layout == Layout::kNchw ? Shape{3, spec.height, spec.width}
                                                     : Shape{spec.height, spec.width, 3};
  return prepared;
}

Tensor OneRow(PreparedImage&& row, const std::string& name) {
  Tensor tensor{name, row.dtype, {1}, std::move(row.data)};
  tensor.shape.insert(tensor.shape.end(), row.row_shape.begin(), row.row_shape.end());
  return tensor;
}

absl::StatusOr<Tensor> StackRows(const std::vector<const PreparedImage*>& rows,
                                 const std::string& name) {
  if (rows.empty() || rows.front() == nullptr) return ValidationError("no images to stack");
  const PreparedImage& first = *rows.front();
  Tensor tensor{name, first.dtype, {static_cast<int64_t>(rows.size())}, {}};
  tensor.shape.insert(tensor.shape.end(), first.row_shape.begin(), first.row_shape.end());
  tensor.data.reserve(first.data.size() * rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const PreparedImage* row = rows[i];
    if (row == nullptr || row->dtype != first.dtype || row->row_shape != first.row_shape ||
        row->data.size() != first.data.size()) {
      return ValidationError(StrCat(
          "image ", i,
          " does not match image 0: ", row == nullptr ? "missing" : "different dtype or shape",
          " (", DataTypeName(first.dtype), " ", ShapeToString(first.row_shape), ")"));
    }
    tensor.data.insert(tensor.data.end(), row->data.begin(), row->data.end());
  }
  return tensor;
}

}  // namespace cinfer::vision
