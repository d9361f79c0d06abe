// ImageCodecs: OpenCV's image decoders and encoders, in a plugin
// (libcinfer_imgcodecs.so, beside the engine plugins) opened with dlopen on the
// first decode or encode. Debian's libopencv_imgcodecs links 139 libraries
// (GDAL, GDCM, poppler, PROJ, ...): linked into the binary they cost ~110 ms of
// every start and ~15 MB of idle memory (docs/PERFORMANCE.md); a server that
// has not seen an image maps none of them.
//
// A plugin that is missing or cannot be opened makes every call fail with
// UNAVAILABLE and the reason (kept: not retried per image). Built by the
// composition root; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "opencv2/core.hpp"

namespace cinfer::vision {

class ImageCodecs {
 public:
  explicit ImageCodecs(std::string library) : library_(std::move(library)) {}

  // cv::imdecode(IMREAD_COLOR): 8-bit BGR, EXIF orientation applied. An empty
  // Mat when OpenCV cannot decode the bytes; InvalidArgument with OpenCV's
  // message when it throws.
  absl::StatusOr<cv::Mat> Decode(std::string_view bytes) const;
  // cv::imencode(".jpg", quality).
  absl::StatusOr<std::string> EncodeJpeg(const cv::Mat& image, int quality) const;

  const std::string& library() const { return library_; }

  // The plugin's functions (vision/imgcodecs_plugin.cc): 0 on success, else the
  // reason in *error. They never throw.
  using DecodeFn = int (*)(const char* data, size_t size, cv::Mat* out, std::string* error);
  using EncodeFn = int (*)(const cv::Mat* image, int quality, std::string* out, std::string* error);

 private:
  struct Api {
    DecodeFn decode = nullptr;
    EncodeFn encode = nullptr;
  };
  absl::StatusOr<Api> Open() const;
  absl::StatusOr<Api> OpenLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string library_;
  mutable Mutex mu_;
  mutable bool tried_ ABSL_GUARDED_BY(mu_) = false;
  mutable Api api_ ABSL_GUARDED_BY(mu_);
  mutable absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cinfer::vision
