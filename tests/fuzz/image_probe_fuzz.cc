// Fuzzes the image header probe vision::ProbeImage (never the OpenCV decode).
// Checked: a probed image has positive dimensions and the format its magic bytes name.
#include <cstdint>

#include "fuzz_check.h"
#include "vision/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = cinfer::fuzz::AsText(data, size);
  auto info = cinfer::vision::ProbeImage(bytes);
  if (!info.ok()) return 0;
  FUZZ_CHECK(info->width > 0 && info->height > 0);
  FUZZ_CHECK(info->width <= (int64_t{1} << 31) && info->height <= (int64_t{1} << 31));
  using cinfer::vision::ImageFormat;
  switch (info->format) {
    case ImageFormat::kJpeg:
      FUZZ_CHECK(bytes.starts_with("\xFF\xD8"));
      break;
    case ImageFormat::kPng:
      FUZZ_CHECK(bytes.starts_with("\x89PNG"));
      break;
    case ImageFormat::kWebp:
      FUZZ_CHECK(bytes.starts_with("RIFF") && bytes.substr(8, 4) == "WEBP");
      break;
    case ImageFormat::kBmp:
      FUZZ_CHECK(bytes.starts_with("BM"));
      break;
  }
  return 0;
}
