// The image codecs plugin (vision/image_codecs.h): OpenCV's imdecode and
// imencode, and libjpeg-turbo's TurboJPEG decoder, behind C entry points, so
// that only this library links libopencv_imgcodecs and what it pulls in.
#include <memory>
#include <string>
#include <vector>

#include "opencv2/imgcodecs.hpp"
#include "turbojpeg.h"

extern "C" __attribute__((visibility("default"))) int cinfer_imgcodecs_decode(const char* data,
                                                                              size_t size,
                                                                              cv::Mat* out,
                                                                              std::string* error) {
  try {
    const cv::Mat buffer(1, static_cast<int>(size), CV_8U, const_cast<char*>(data));
    *out = cv::imdecode(buffer, cv::IMREAD_COLOR);
    return 0;
  } catch (const cv::Exception& e) {
    *error = e.what();
  } catch (const std::exception& e) {
    *error = e.what();
  }
  return 1;
}

// A JPEG straight to 8-bit BGR with TurboJPEG: the same libjpeg-turbo decoder
// and settings as OpenCV 4.6's (accurate integer IDCT, fancy upsampling), but
// without its RGB → BGR swap, a whole pass over the pixels. No EXIF handling:
// the caller sends only JPEGs without an Exif segment. 0 on success; 1 with
// the reason in *error for anything else, even a libjpeg warning (corrupt data
// it filled in; TurboJPEG cannot tell a warning followed by a fatal error from
// a warning alone), CMYK or a corrupt header: the caller then decodes with
// cinfer_imgcodecs_decode, which answers such files as before.
extern "C" __attribute__((visibility("default"))) int cinfer_imgcodecs_decode_jpeg_bgr(
    const char* data, size_t size, cv::Mat* out, std::string* error) {
  try {
    const std::unique_ptr<void, int (*)(tjhandle)> tj(tjInitDecompress(), tjDestroy);
    if (tj == nullptr) {
      *error = tjGetErrorStr2(nullptr);
      return 1;
    }
    const auto* jpeg = reinterpret_cast<const unsigned char*>(data);
    const auto length = static_cast<unsigned long>(size);
    int width = 0, height = 0, subsampling = 0, colorspace = 0;
    if (tjDecompressHeader3(tj.get(), jpeg, length, &width, &height, &subsampling, &colorspace) !=
        0) {
      *error = tjGetErrorStr2(tj.get());
      return 1;
    }
    if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
      *error = "a CMYK JPEG (OpenCV converts it)";
      return 1;
    }
    cv::Mat image(height, width, CV_8UC3);
    if (tjDecompress2(tj.get(), jpeg, length, image.data, width, static_cast<int>(image.step),
                      height, TJPF_BGR, TJFLAG_ACCURATEDCT) != 0) {
      *error = tjGetErrorStr2(tj.get());
      return 1;
    }
    *out = std::move(image);
    return 0;
  } catch (const std::exception& e) {
    *error = e.what();
  }
  return 1;
}

extern "C" __attribute__((visibility("default"))) int cinfer_imgcodecs_encode_jpeg(
    const cv::Mat* image, int quality, std::string* out, std::string* error) {
  try {
    std::vector<uint8_t> bytes;
    if (!cv::imencode(".jpg", *image, bytes, {cv::IMWRITE_JPEG_QUALITY, quality})) {
      *error = "JPEG encoding failed";
      return 1;
    }
    out->assign(bytes.begin(), bytes.end());
    return 0;
  } catch (const cv::Exception& e) {
    *error = e.what();
  } catch (const std::exception& e) {
    *error = e.what();
  }
  return 1;
}
