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

#include <atomic>
#include <cstdint>
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
  // message when it throws. `plain_jpeg`: the bytes are a JPEG without an Exif
  // segment (nothing to orient), which TurboJPEG decodes straight to BGR, the
  // same pixels without OpenCV's RGB → BGR pass; whatever it cannot decode
  // goes to imdecode as above.
  absl::StatusOr<cv::Mat> Decode(std::string_view bytes, bool plain_jpeg = false) const;
  // cv::imencode(".jpg", quality).
  absl::StatusOr<std::string> EncodeJpeg(const cv::Mat& image, int quality) const;

  const std::string& library() const { return library_; }
  // Images decoded by TurboJPEG so far (for tests and benchmarks).
  int64_t turbo_decodes() const { return turbo_decodes_.load(std::memory_order_relaxed); }

  // The plugin's functions (vision/imgcodecs_plugin.cc): 0 on success, else the
  // reason in *error. They never throw.
  using DecodeFn = int (*)(const char* data, size_t size, cv::Mat* out, std::string* error);
  using EncodeFn = int (*)(const cv::Mat* image, int quality, std::string* out, std::string* error);

 private:
  struct Api {
    DecodeFn decode = nullptr;
    EncodeFn encode = nullptr;
    DecodeFn decode_jpeg = nullptr;  // cinfer_imgcodecs_decode_jpeg_bgr
  };
  absl::StatusOr<Api> Open() const;
  absl::StatusOr<Api> OpenLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string library_;
  mutable Mutex mu_;
  mutable bool tried_ ABSL_GUARDED_BY(mu_) = false;
  mutable Api api_ ABSL_GUARDED_BY(mu_);
  mutable absl::Status failure_ ABSL_GUARDED_BY(mu_);
  mutable std::atomic<int64_t> turbo_decodes_{0};
};

}  // namespace cinfer::vision
