// The image codecs plugin (vision/image_codecs.h): OpenCV's imdecode and
// imencode behind two C entry points, so that only this library links
// libopencv_imgcodecs and what it pulls in.
#include <string>
#include <vector>

#include "opencv2/imgcodecs.hpp"

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
