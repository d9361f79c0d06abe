// Image decoding for the inference API: the header is read first and its
// dimensions checked against a pixel limit, so a 100000×100000 PNG is refused
// before any large allocation; only then does OpenCV decode. JPEG EXIF
// orientation is applied. Thread-safe, stateless.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "opencv2/core.hpp"
#include "vision/image_codecs.h"

namespace cinfer::vision {

enum class ImageFormat { kJpeg, kPng, kWebp, kBmp };
std::string_view ImageFormatName(ImageFormat format);  // "jpeg", "png", "webp", "bmp"

struct ImageInfo {
  ImageFormat format = ImageFormat::kJpeg;
  int64_t width = 0;  // as stored (before EXIF orientation)
  int64_t height = 0;
  // JPEG only: start-of-scan segments, a progressive frame, colour components,
  // and whether an end-of-image marker follows the last scan.
  int jpeg_scans = 0;
  bool progressive = false;
  int components = 3;
  bool complete = true;
  bool exif = false;  // an APP1 Exif segment (its orientation is applied when decoding)
};

struct DecodeLimits {
  int64_t max_pixels = 40'000'000;  // width * height
  int max_jpeg_scans = 100;         // a progressive JPEG decodes every scan over the whole image
};

// Reads only the header. Errors (all with the standard error codes):
//   UNSUPPORTED_MEDIA_TYPE (415): not JPEG/PNG/WebP/BMP by its magic bytes;
//   INVALID_IMAGE (422): truncated or corrupt header, zero dimensions;
absl::StatusOr<ImageInfo> ProbeImage(std::string_view bytes);

// Probe, check limits, decode to 8-bit BGR (3 channels; grey and alpha are
// converted), apply the JPEG EXIF orientation. Errors: as ProbeImage, plus
// IMAGE_TOO_LARGE (422) when width*height > max_pixels (message gives both),
// IMAGE_TOO_COMPLEX (422) when a JPEG has more than max_jpeg_scans scans,
// INVALID_IMAGE (422) when the data is truncated or OpenCV cannot decode it.
// `codecs` does the decoding (vision/image_codecs.h).
absl::StatusOr<cv::Mat> DecodeImage(const ImageCodecs& codecs, std::string_view bytes,
                                    const DecodeLimits& limits);
// The checks DecodeImage makes on the header before decoding: the pixel limit,
// the JPEG scan limit, a complete JPEG.
absl::Status CheckDecodeLimits(const ImageInfo& info, const DecodeLimits& limits);
// The same with the result of ProbeImage(bytes).
absl::StatusOr<cv::Mat> DecodeImage(const ImageCodecs& codecs, std::string_view bytes,
                                    const ImageInfo& info, const DecodeLimits& limits);

// An upper estimate of the memory decoding the image takes, in bytes.
int64_t DecodeMemoryBytes(const ImageInfo& info);

// JPEG-encodes a BGR image (quality 0..100).
absl::StatusOr<std::string> EncodeJpeg(const ImageCodecs& codecs, const cv::Mat& bgr,
                                       int quality = 85);

}  // namespace cinfer::vision
