#include "vision/image_codecs.h"

#include <dlfcn.h>

#include "common/strings.h"
#include "spdlog/spdlog.h"

namespace cinfer::vision {

absl::StatusOr<ImageCodecs::Api> ImageCodecs::OpenLocked() const {
  // Never closed: decoded images may still hold the codec libraries' allocators.
  void* handle = dlopen(library_.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return absl::UnavailableError(StrCat("the image codecs (", library_, ") cannot be opened: ",
                                         why != nullptr ? why : "unknown error"));
  }
  Api api{reinterpret_cast<DecodeFn>(dlsym(handle, "cinfer_imgcodecs_decode")),
          reinterpret_cast<EncodeFn>(dlsym(handle, "cinfer_imgcodecs_encode_jpeg")),
          reinterpret_cast<DecodeFn>(dlsym(handle, "cinfer_imgcodecs_decode_jpeg_bgr"))};
  if (api.decode == nullptr || api.encode == nullptr || api.decode_jpeg == nullptr) {
    return absl::UnavailableError(
        StrCat("the image codecs plugin ", library_, " lacks its entry points"));
  }
  return api;
}

absl::StatusOr<ImageCodecs::Api> ImageCodecs::Open() const {
  MutexLock lock(&mu_);
  if (api_.decode != nullptr) return api_;
  if (tried_) return failure_;
  tried_ = true;
  auto api = OpenLocked();
  if (!api.ok()) {
    failure_ = api.status();
    spdlog::error("{}", failure_.message());
    return failure_;
  }
  api_ = *api;
  return api_;
}

absl::StatusOr<cv::Mat> ImageCodecs::Decode(std::string_view bytes, bool plain_jpeg) const {
  auto api = Open();
  if (!api.ok()) return api.status();
  cv::Mat out;
  std::string error;
  if (plain_jpeg && api->decode_jpeg(bytes.data(), bytes.size(), &out, &error) == 0) {
    turbo_decodes_.fetch_add(1, std::memory_order_relaxed);
    return out;
  }
  error.clear();
  if (api->decode(bytes.data(), bytes.size(), &out, &error) != 0) {
    return absl::InvalidArgumentError(error);
  }
  return out;
}

absl::StatusOr<std::string> ImageCodecs::EncodeJpeg(const cv::Mat& image, int quality) const {
  auto api = Open();
  if (!api.ok()) return api.status();
  std::string out, error;
  if (api->encode(&image, quality, &out, &error) != 0) return absl::InternalError(error);
  return out;
}

}  // namespace cinfer::vision
