#include "vision/image.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <optional>
#include <vector>

#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "opencv2/imgproc.hpp"

namespace cinfer::vision {
namespace {

absl::Status InvalidImage(std::string_view message) {
  return MakeError(ErrorCode::kInvalidImage, message);
}

absl::Status Truncated(ImageFormat format) {
  return InvalidImage(StrCat("truncated ", ImageFormatName(format), " header"));
}

// Little- and big-endian readers; callers check the bounds first.
uint8_t U8(std::string_view b, size_t i) { return static_cast<uint8_t>(b[i]); }
uint32_t U16Be(std::string_view b, size_t i) { return (U8(b, i) << 8) | U8(b, i + 1); }
uint32_t U16Le(std::string_view b, size_t i) { return U8(b, i) | (U8(b, i + 1) << 8); }
uint32_t U24Le(std::string_view b, size_t i) { return U16Le(b, i) | (U8(b, i + 2) << 16); }
uint32_t U32Be(std::string_view b, size_t i) { return (U16Be(b, i) << 16) | U16Be(b, i + 2); }
uint32_t U32Le(std::string_view b, size_t i) { return U16Le(b, i) | (U16Le(b, i + 2) << 16); }

absl::StatusOr<ImageInfo> Dims(ImageFormat format, int64_t width, int64_t height) {
  if (width <= 0 || height <= 0) {
    return InvalidImage(
        StrCat(ImageFormatName(format), " header declares a ", width, "x", height, " image"));
  }
  return ImageInfo{format, width, height};
}

// SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
bool IsStartOfFrame(uint8_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

bool IsProgressiveFrame(uint8_t marker) {
  return marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE;
}

// The index of the next marker (its FF byte) after entropy-coded data starting
// at `pos`: FF 00 is a stuffed byte and FF D0..D7 a restart marker, both part
// of the data. npos when the data runs to the end of `b`.
size_t SkipEntropyCodedData(std::string_view b, size_t pos) {
  while (true) {
    pos = b.find('\xFF', pos);
    if (pos == std::string_view::npos || pos + 1 >= b.size()) return std::string_view::npos;
    const uint8_t next = U8(b, pos + 1);
    if (next != 0x00 && next != 0xFF && !(next >= 0xD0 && next <= 0xD7)) return pos;
    pos += next == 0xFF ? 1 : 2;  // FF FF: fill byte before a marker
  }
}

// Walks every marker segment after SOI: the frame header gives the size, each
// start-of-scan is counted (progressive files can hold thousands of scans, and
// libjpeg decodes each one over the whole image), EOI marks the file complete.
absl::StatusOr<ImageInfo> ProbeJpeg(std::string_view b) {
  constexpr ImageFormat kFormat = ImageFormat::kJpeg;
  std::optional<ImageInfo> info;
  bool exif = false;
  size_t pos = 2;
  while (true) {
    while (pos < b.size() && U8(b, pos) != 0xFF) ++pos;  // garbage between segments
    while (pos < b.size() && U8(b, pos) == 0xFF) ++pos;  // fill bytes
    if (pos >= b.size()) break;
    const uint8_t marker = U8(b, pos++);
    if (marker == 0x00 || marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) {
      continue;  // stuffed byte or a standalone marker without a length
    }
    if (marker == 0xD9) {
      if (info.has_value()) info->complete = info->jpeg_scans > 0;
      break;
    }
    if (!info.has_value() && marker == 0xDA) {
      return InvalidImage("JPEG has no frame header before its image data");
    }
    if (pos + 2 > b.size()) break;
    const size_t length = U16Be(b, pos);
    if (length < 2) return InvalidImage("JPEG segment with an invalid length");
    if (marker == 0xE1 && b.substr(pos + 2, 4) == "Exif") exif = true;  // as OpenCV reads it
    if (IsStartOfFrame(marker) && !info.has_value()) {
      // length(2) precision(1) height(2) width(2) components(1)
      if (length < 8) return InvalidImage("JPEG frame header too short");
      if (pos + 7 > b.size()) return Truncated(kFormat);
      ASSIGN_OR_RETURN(info, Dims(kFormat, U16Be(b, pos + 5), U16Be(b, pos + 3)));
      info->progressive = IsProgressiveFrame(marker);
      info->components = U8(b, pos + 7);
      info->complete = false;
    }
    pos += length;
    if (marker == 0xDA) {
      ++info->jpeg_scans;
      pos = SkipEntropyCodedData(b, pos);
      if (pos == std::string_view::npos) break;
    }
  }
  if (!info.has_value()) return Truncated(kFormat);
  info->exif = exif;
  return *info;
}

absl::StatusOr<ImageInfo> ProbePng(std::string_view b) {
  constexpr ImageFormat kFormat = ImageFormat::kPng;
  // signature(8), IHDR chunk: length(4) "IHDR" width(4) height(4) ...
  if (b.size() < 24) return Truncated(kFormat);
  if (U32Be(b, 8) != 13 || b.substr(12, 4) != "IHDR") {
    return InvalidImage("PNG does not start with an IHDR chunk");
  }
  const uint32_t width = U32Be(b, 16), height = U32Be(b, 20);
  if (width > INT32_MAX || height > INT32_MAX) {
    return InvalidImage("PNG dimensions exceed 2^31-1");
  }
  return Dims(kFormat, width, height);
}

// RIFF(4) size(4) "WEBP"(4), then the first chunk: fourcc(4) size(4) payload at 20.
absl::StatusOr<ImageInfo> ProbeWebp(std::string_view b) {
  constexpr ImageFormat kFormat = ImageFormat::kWebp;
  if (b.size() < 20) return Truncated(kFormat);
  const std::string_view chunk = b.substr(12, 4);
  if (chunk == "VP8 ") {  // lossy: frame tag(3) 9D 01 2A width(2) height(2), 14 bits each
    if (b.size() < 30) return Truncated(kFormat);
    if ((U8(b, 20) & 1) != 0) return InvalidImage("WebP VP8 data does not start with a key frame");
    if (b.substr(23, 3) != "\x9D\x01\x2A") return InvalidImage("WebP VP8 start code missing");
    return Dims(kFormat, U16Le(b, 26) & 0x3FFF, U16Le(b, 28) & 0x3FFF);
  }
  if (chunk == "VP8L") {  // lossless: 0x2F, then 14-bit width-1 and height-1
    if (b.size() < 25) return Truncated(kFormat);
    if (U8(b, 20) != 0x2F) return InvalidImage("WebP VP8L signature missing");
    const uint32_t bits = U32Le(b, 21);
    return Dims(kFormat, (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
  }
  if (chunk == "VP8X") {  // extended: flags(1) reserved(3) 24-bit width-1 and height-1
    if (b.size() < 30) return Truncated(kFormat);
    return Dims(kFormat, int64_t{U24Le(b, 24)} + 1, int64_t{U24Le(b, 27)} + 1);
  }
  return InvalidImage("WebP with an unknown first chunk");
}

// "BM", file header (14 bytes), then a DIB header starting with its own size.
absl::StatusOr<ImageInfo> ProbeBmp(std::string_view b) {
  constexpr ImageFormat kFormat = ImageFormat::kBmp;
  if (b.size() < 18) return Truncated(kFormat);
  const uint32_t header_size = U32Le(b, 14);
  if (header_size == 12) {  // BITMAPCOREHEADER: 16-bit unsigned width and height
    if (b.size() < 22) return Truncated(kFormat);
    return Dims(kFormat, U16Le(b, 18), U16Le(b, 20));
  }
  if (header_size < 16) return InvalidImage("BMP with an unknown DIB header");
  if (b.size() < 26) return Truncated(kFormat);
  // BITMAPINFOHEADER and later: signed 32-bit; a negative height means top-down rows.
  const int64_t width = static_cast<int32_t>(U32Le(b, 18));
  const int64_t height = static_cast<int32_t>(U32Le(b, 22));
  return Dims(kFormat, width, std::abs(height));
}

struct Magic {
  ImageFormat format;
  std::string_view bytes;  // at the start of the file, or after RIFF's size for WebP
};

// Which format the magic bytes name; kTruncated when `b` is a proper prefix of one.
enum class Detect { kFound, kTruncated, kUnknown };
Detect DetectFormat(std::string_view b, ImageFormat* format) {
  static constexpr Magic kMagics[] = {
      {ImageFormat::kJpeg, std::string_view("\xFF\xD8", 2)},
      {ImageFormat::kPng, std::string_view("\x89PNG\r\n\x1A\n", 8)},
      {ImageFormat::kBmp, "BM"},
  };
  for (const Magic& m : kMagics) {
    *format = m.format;
    if (b.starts_with(m.bytes)) return Detect::kFound;
    if (b.size() < m.bytes.size() && m.bytes.starts_with(b)) return Detect::kTruncated;
  }
  *format = ImageFormat::kWebp;
  if (b.starts_with("RIFF")) {
    if (b.size() < 12) return Detect::kTruncated;
    if (b.substr(8, 4) == "WEBP") return Detect::kFound;
  } else if (b.size() < 4 && std::string_view("RIFF").starts_with(b)) {
    return Detect::kTruncated;
  }
  return Detect::kUnknown;
}

// Makes sure the decoded image is 8-bit BGR whatever OpenCV returned.
cv::Mat ToBgr8(cv::Mat image) {
  if (image.depth() != CV_8U) {
    const double scale = image.depth() == CV_16U ? 1.0 / 257.0 : 1.0;
    image.convertTo(image, CV_8U, scale);
  }
  if (image.channels() == 1) cv::cvtColor(image, image, cv::COLOR_GRAY2BGR);
  if (image.channels() == 4) cv::cvtColor(image, image, cv::COLOR_BGRA2BGR);
  return image;
}

}  // namespace

std::string_view ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "jpeg";
    case ImageFormat::kPng:
      return "png";
    case ImageFormat::kWebp:
      return "webp";
    case ImageFormat::kBmp:
      return "bmp";
  }
  return "unknown";
}

absl::StatusOr<ImageInfo> ProbeImage(std::string_view bytes) {
  if (bytes.empty()) return InvalidImage("the image is empty");
  ImageFormat format = ImageFormat::kJpeg;
  switch (DetectFormat(bytes, &format)) {
    case Detect::kUnknown:
      return MakeError(ErrorCode::kUnsupportedMediaType, "not a JPEG, PNG, WebP or BMP image");
    case Detect::kTruncated:
      return Truncated(format);
    case Detect::kFound:
      break;
  }
  switch (format) {
    case ImageFormat::kJpeg:
      return ProbeJpeg(bytes);
    case ImageFormat::kPng:
      return ProbePng(bytes);
    case ImageFormat::kWebp:
      return ProbeWebp(bytes);
    case ImageFormat::kBmp:
      return ProbeBmp(bytes);
  }
  return InvalidImage("unknown image format");
}

absl::StatusOr<cv::Mat> DecodeImage(const ImageCodecs& codecs, std::string_view bytes,
                                    const DecodeLimits& limits) {
  ASSIGN_OR_RETURN(const ImageInfo info, ProbeImage(bytes));
  return DecodeImage(codecs, bytes, info, limits);
}

int64_t DecodeMemoryBytes(const ImageInfo& info) {
  const int64_t pixels = info.width * info.height;
  // The BGR result, plus libjpeg's whole-image coefficient buffer (2 bytes per
  // sample) for a progressive JPEG; other decoders write into the result.
  return pixels * 3 + (info.progressive ? pixels * std::max(info.components, 1) * 2 : 0);
}

absl::Status CheckDecodeLimits(const ImageInfo& info, const DecodeLimits& limits) {
  if (info.width * info.height > limits.max_pixels) {
    return MakeError(ErrorCode::kImageTooLarge,
                     StrCat("the ", ImageFormatName(info.format), " image is ", info.width, "x",
                            info.height, " (", info.width * info.height, " pixels); the limit is ",
                            limits.max_pixels, " pixels"));
  }
  if (info.format == ImageFormat::kJpeg && info.jpeg_scans > limits.max_jpeg_scans) {
    return MakeError(ErrorCode::kImageTooComplex,
                     StrCat("the JPEG image has ", info.jpeg_scans, " scans; the limit is ",
                            limits.max_jpeg_scans));
  }
  if (!info.complete) {
    // libjpeg would decode a truncated file with a warning and grey fill.
    return InvalidImage("the JPEG image is truncated (no end-of-image marker after its last scan)");
  }
  return absl::OkStatus();
}

absl::StatusOr<cv::Mat> DecodeImage(const ImageCodecs& codecs, std::string_view bytes,
                                    const ImageInfo& info, const DecodeLimits& limits) {
  RETURN_IF_ERROR(CheckDecodeLimits(info, limits));
  if (bytes.size() > static_cast<size_t>(INT_MAX)) return InvalidImage("the image is too big");
  // IMREAD_COLOR: 8-bit BGR, EXIF orientation applied (JPEG).
  absl::StatusOr<cv::Mat> decoded =
      codecs.Decode(bytes, info.format == ImageFormat::kJpeg && !info.exif);
  if (absl::IsInvalidArgument(decoded.status())) {  // OpenCV threw
    return InvalidImage(StrCat("cannot decode the ", ImageFormatName(info.format),
                               " image: ", decoded.status().message()));
  }
  if (!decoded.ok()) return decoded.status();
  cv::Mat image = *std::move(decoded);
  if (image.empty()) {
    return InvalidImage(StrCat("cannot decode the ", ImageFormatName(info.format), " image"));
  }
  return ToBgr8(std::move(image));
}

absl::StatusOr<std::string> EncodeJpeg(const ImageCodecs& codecs, const cv::Mat& bgr, int quality) {
  if (bgr.empty() || bgr.depth() != CV_8U || (bgr.channels() != 3 && bgr.channels() != 1)) {
    return InvalidImage("JPEG encoding needs a non-empty 8-bit BGR or grey image");
  }
  if (quality < 0 || quality > 100) return ValidationError("JPEG quality must be 0..100");
  absl::StatusOr<std::string> out = codecs.EncodeJpeg(bgr, quality);
  if (absl::IsInternal(out.status())) {
    return absl::InternalError(StrCat("JPEG encoding failed: ", out.status().message()));
  }
  return out;
}

}  // namespace cinfer::vision
