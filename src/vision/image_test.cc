// Every image here is made in the test: encoded with cv::imencode from a
// synthetic cv::Mat, or assembled byte by byte (hand-built headers), so no
// fixture files are needed.
#include "vision/image.h"

#include <chrono>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/errors.h"
#include "gtest/gtest.h"
#include "opencv2/imgcodecs.hpp"

namespace cinfer::vision {
namespace {

// The image codecs plugin of this build (build/engines/libcinfer_imgcodecs.so).
const ImageCodecs& Codecs() {
  static const ImageCodecs codecs(CINFER_PLUGIN_DIR "/libcinfer_imgcodecs.so");
  return codecs;
}

TEST(ImageCodecsTest, AMissingPluginIsUnavailableWithTheReason) {
  const ImageCodecs missing("/nonexistent/libcinfer_imgcodecs.so");
  auto decoded = missing.Decode("x");
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(decoded.status().message()).find("/nonexistent/"), std::string::npos);
  EXPECT_EQ(missing.EncodeJpeg(cv::Mat(8, 8, CV_8UC3), 90).status().code(),
            absl::StatusCode::kUnavailable);
}

// A w×h BGR image whose pixels differ (so decoders cannot cheat on flat data).
cv::Mat Pattern(int w, int h) {
  cv::Mat image(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      image.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 5 % 256, y * 7 % 256, (x + y) * 3 % 256);
    }
  }
  return image;
}

std::string Encode(const cv::Mat& image, const std::string& ext, std::vector<int> params = {}) {
  std::vector<uint8_t> out;
  EXPECT_TRUE(cv::imencode(ext, image, out, params)) << ext;
  return {out.begin(), out.end()};
}

std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
std::string Le32(uint32_t v) {
  return {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
          static_cast<char>(v >> 24)};
}
std::string Be16(uint32_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v)}; }
std::string Le16(uint32_t v) { return {static_cast<char>(v), static_cast<char>(v >> 8)}; }

// PNG signature, IHDR (8-bit RGB) and a tiny IDAT + IEND; CRCs are dummies,
// as only the header is ever read.
std::string HandBuiltPng(uint32_t width, uint32_t height) {
  std::string png("\x89PNG\r\n\x1A\n", 8);
  png += Be32(13) + "IHDR" + Be32(width) + Be32(height) + std::string("\x08\x02\0\0\0", 5);
  png += Be32(0);
  png += Be32(4) + "IDAT" + std::string("\x78\x9C\x03\0", 4) + Be32(0);
  png += Be32(0) + "IEND" + Be32(0xAE426082);
  return png;
}

// SOI, one SOF0 segment (8-bit, 3 components), EOI.
std::string HandBuiltJpeg(uint32_t width, uint32_t height) {
  std::string jpeg("\xFF\xD8\xFF\xC0", 4);
  jpeg += Be16(17) + "\x08" + Be16(height) + Be16(width) + "\x03";
  jpeg += std::string("\x01\x11\x00\x02\x11\x01\x03\x11\x01", 9);
  return jpeg + "\xFF\xD9";
}

// An APP1 Exif segment: "Exif\0\0", a little-endian TIFF header and IFD0
// with one entry, Orientation (0x0112) SHORT count 1 = `orientation`.
std::string ExifApp1(int orientation) {
  std::string tiff = std::string("II\x2A\0", 4) + Le32(8);
  tiff += Le16(1) + Le16(0x0112) + Le16(3) + Le32(1) + Le16(orientation) + Le16(0) + Le32(0);
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  return std::string("\xFF\xE1", 2) + Be16(payload.size() + 2) + payload;
}

std::string CodeOf(const absl::StatusOr<ImageInfo>& r) { return ErrorCodeOf(r.status()); }
std::string CodeOf(const absl::StatusOr<cv::Mat>& r) { return ErrorCodeOf(r.status()); }

std::vector<std::pair<std::string, ImageFormat>> Encodings() {
  std::vector<std::pair<std::string, ImageFormat>> all = {
      {".jpg", ImageFormat::kJpeg}, {".png", ImageFormat::kPng}, {".bmp", ImageFormat::kBmp}};
  if (cv::haveImageWriter(".webp")) all.emplace_back(".webp", ImageFormat::kWebp);
  return all;
}

TEST(ImageTest, ProbesEachEncodedFormat) {
  const cv::Mat image = Pattern(37, 23);
  EXPECT_TRUE(cv::haveImageWriter(".webp")) << "OpenCV built without WebP: case skipped";
  for (const auto& [ext, format] : Encodings()) {
    auto info = ProbeImage(Encode(image, ext));
    ASSERT_TRUE(info.ok()) << ext << ": " << info.status();
    EXPECT_EQ(info->format, format) << ext;
    EXPECT_EQ(info->width, 37) << ext;
    EXPECT_EQ(info->height, 23) << ext;
    auto decoded = DecodeImage(Codecs(), Encode(image, ext), {});
    ASSERT_TRUE(decoded.ok()) << ext << ": " << decoded.status();
    EXPECT_EQ(decoded->type(), CV_8UC3);
    EXPECT_EQ(decoded->size(), image.size());
  }
  EXPECT_EQ(ImageFormatName(ImageFormat::kWebp), "webp");
}

TEST(ImageTest, ProbesWebpVariants) {
  if (!cv::haveImageWriter(".webp")) GTEST_SKIP() << "no WebP in this OpenCV";
  // Quality above 100 makes OpenCV write lossless (VP8L) WebP.
  const std::string lossless = Encode(Pattern(300, 17), ".webp", {cv::IMWRITE_WEBP_QUALITY, 101});
  ASSERT_EQ(lossless.substr(12, 4), "VP8L");
  auto info = ProbeImage(lossless);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->width, 300);
  EXPECT_EQ(info->height, 17);

  const std::string lossy = Encode(Pattern(300, 17), ".webp", {cv::IMWRITE_WEBP_QUALITY, 80});
  ASSERT_EQ(lossy.substr(12, 4), "VP8 ");
  info = ProbeImage(lossy);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->width, 300);

  // Extended header: 24-bit canvas size minus one.
  const std::string vp8x = "RIFF" + Le32(22) + "WEBPVP8X" + Le32(10) + std::string(4, '\0') +
                           Le32(4999).substr(0, 3) + Le32(2999).substr(0, 3);
  info = ProbeImage(vp8x);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->format, ImageFormat::kWebp);
  EXPECT_EQ(info->width, 5000);
  EXPECT_EQ(info->height, 3000);
}

TEST(ImageTest, ProbesBmpVariants) {
  const cv::Mat image = Pattern(9, 6);
  std::string bmp = Encode(image, ".bmp");
  // A negative height marks top-down rows: same size, rows in the other order.
  bmp.replace(22, 4, Le32(static_cast<uint32_t>(-6)));
  auto info = ProbeImage(bmp);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->height, 6);
  auto decoded = DecodeImage(Codecs(), bmp, {});
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  cv::Mat flipped;
  cv::flip(image, flipped, 0);
  EXPECT_EQ(cv::norm(*decoded, flipped, cv::NORM_INF), 0);

  // The old 12-byte BITMAPCOREHEADER has 16-bit sizes.
  const std::string core =
      "BM" + Le32(26) + Le32(0) + Le32(26) + Le32(12) + Le16(640) + Le16(480) + Le16(1) + Le16(24);
  info = ProbeImage(core);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->format, ImageFormat::kBmp);
  EXPECT_EQ(info->width, 640);
  EXPECT_EQ(info->height, 480);
}

TEST(ImageTest, ProbeJpegWalksSegments) {
  // Fill bytes, a standalone marker, APP0 and DHT (C4, not a frame) before a
  // progressive SOF2.
  std::string jpeg("\xFF\xD8\xFF\xFF\xFF\x01", 6);
  jpeg += std::string("\xFF\xE0", 2) + Be16(6) + "JFIF";
  jpeg += std::string("\xFF\xC4", 2) + Be16(4) + Be16(0x1234);
  jpeg += std::string("\xFF\xFF\xC2", 3) + Be16(11) + "\x08" + Be16(480) + Be16(640) + "\x01" +
          std::string("\x01\x11\x00", 3);
  auto info = ProbeImage(jpeg);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->width, 640);
  EXPECT_EQ(info->height, 480);

  // Image data (SOS) before any frame header; a segment length running past the end.
  EXPECT_EQ(CodeOf(ProbeImage(std::string("\xFF\xD8\xFF\xDA\x00\x02", 6))), "INVALID_IMAGE");
  EXPECT_EQ(CodeOf(ProbeImage(std::string("\xFF\xD8\xFF\xE0\xFF\xFF\x00", 7))), "INVALID_IMAGE");
  EXPECT_EQ(CodeOf(ProbeImage(HandBuiltJpeg(0, 10))), "INVALID_IMAGE");
}

// A progressive JPEG of `scans` scans: SOF2 (3 components) and, per scan, an
// SOS header with entropy-coded bytes holding a stuffed FF 00 and a restart
// marker, then EOI. Only the marker stream is real; libjpeg never sees it.
std::string ManyScanJpeg(int scans, int w = 6000, int h = 6000) {
  std::string jpeg("\xFF\xD8", 2);
  jpeg += std::string("\xFF\xC2", 2) + Be16(17) + "\x08" + Be16(h) + Be16(w) + "\x03" +
          std::string("\x01\x11\x00\x02\x11\x01\x03\x11\x01", 9);
  for (int i = 0; i < scans; ++i) {
    jpeg += std::string("\xFF\xDA", 2) + Be16(12) + "\x03" +
            std::string("\x01\x00\x02\x11\x03\x11\x00\x3F\x00", 9);
    jpeg += std::string("\x12\x34\xFF\x00\x56\xFF\xD0\x78", 8);
  }
  return jpeg + std::string("\xFF\xD9", 2);
}

TEST(ImageTest, ProbeCountsJpegScans) {
  auto info = ProbeImage(ManyScanJpeg(7, 640, 480));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->jpeg_scans, 7);
  EXPECT_TRUE(info->progressive);
  EXPECT_EQ(info->components, 3);
  EXPECT_TRUE(info->complete);
  EXPECT_EQ(info->width, 640);

  // A real progressive file from libjpeg: its scans are counted, and it decodes
  // at a scan limit equal to its count but not one below.
  const std::string real = Encode(Pattern(64, 48), ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
  auto real_info = ProbeImage(real);
  ASSERT_TRUE(real_info.ok());
  EXPECT_TRUE(real_info->progressive);
  EXPECT_GT(real_info->jpeg_scans, 1);
  EXPECT_TRUE(DecodeImage(Codecs(), real, {.max_jpeg_scans = real_info->jpeg_scans}).ok());
  EXPECT_EQ(CodeOf(DecodeImage(Codecs(), real, {.max_jpeg_scans = real_info->jpeg_scans - 1})),
            "IMAGE_TOO_COMPLEX");
  const std::string baseline = Encode(Pattern(64, 48), ".jpg");
  EXPECT_EQ(ProbeImage(baseline)->jpeg_scans, 1);
  EXPECT_FALSE(ProbeImage(baseline)->progressive);
}

TEST(ImageTest, JpegsWithThousandsOfScansAreRefusedBeforeDecoding) {
  // 20 000 scans over 6000x6000 took libjpeg 21 s to decode.
  const std::string bomb = ManyScanJpeg(20000);
  const auto start = std::chrono::steady_clock::now();
  auto decoded = DecodeImage(Codecs(), bomb, {});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(CodeOf(decoded), "IMAGE_TOO_COMPLEX") << decoded.status();
  EXPECT_NE(std::string(decoded.status().message()).find("20000 scans"), std::string::npos);
  EXPECT_EQ(CodeOf(DecodeImage(Codecs(), ManyScanJpeg(101), {})), "IMAGE_TOO_COMPLEX");
  // A scan count within the limit gets as far as libjpeg (which finds the data bogus).
  EXPECT_EQ(CodeOf(DecodeImage(Codecs(), ManyScanJpeg(3, 64, 48), {})), "INVALID_IMAGE");
}

TEST(ImageTest, DecodeMemoryEstimate) {
  ImageInfo png{ImageFormat::kPng, 1000, 1000};
  EXPECT_EQ(DecodeMemoryBytes(png), 3'000'000);
  ImageInfo progressive{ImageFormat::kJpeg, 1000, 1000, 10, true, 3, true};
  EXPECT_EQ(DecodeMemoryBytes(progressive), 9'000'000);
}

TEST(ImageTest, UnknownBytesAreUnsupportedMediaType) {
  std::mt19937 rng(42);
  std::string noise(256, '\0');
  for (char& c : noise) c = static_cast<char>(rng() & 0xFF);
  noise[0] = '\0';
  EXPECT_EQ(CodeOf(ProbeImage(noise)), "UNSUPPORTED_MEDIA_TYPE");
  EXPECT_EQ(CodeOf(DecodeImage(Codecs(), noise, {})), "UNSUPPORTED_MEDIA_TYPE");
  EXPECT_EQ(CodeOf(ProbeImage("GIF89a")), "UNSUPPORTED_MEDIA_TYPE");
  EXPECT_EQ(CodeOf(ProbeImage(std::string("RIFF\x10\0\0\0WAVEfmt ", 16))),
            "UNSUPPORTED_MEDIA_TYPE");
  EXPECT_EQ(CodeOf(ProbeImage("{\"inputs\": []}")), "UNSUPPORTED_MEDIA_TYPE");
  EXPECT_EQ(CodeOf(ProbeImage("")), "INVALID_IMAGE");
}

TEST(ImageTest, TruncatedHeadersAreInvalid) {
  const cv::Mat image = Pattern(37, 23);
  for (const auto& [ext, format] : Encodings()) {
    const std::string bytes = Encode(image, ext);
    for (size_t n : {1, 3, 10, 20}) {
      auto info = ProbeImage(bytes.substr(0, n));
      EXPECT_EQ(CodeOf(info), "INVALID_IMAGE") << ext << " cut to " << n << ": " << info.status();
    }
  }
}

TEST(ImageTest, ZeroDimensionsAreInvalid) {
  EXPECT_EQ(CodeOf(ProbeImage(HandBuiltPng(0, 10))), "INVALID_IMAGE");
  EXPECT_EQ(CodeOf(ProbeImage(HandBuiltPng(10, 0))), "INVALID_IMAGE");
  EXPECT_EQ(CodeOf(ProbeImage(HandBuiltPng(0x80000000u, 10))), "INVALID_IMAGE");
  auto ok = ProbeImage(HandBuiltPng(12, 34));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->width, 12);
  EXPECT_EQ(ok->height, 34);
}

TEST(ImageTest, HugeImagesAreRefusedBeforeDecoding) {
  struct Case {
    std::string bytes;
    std::string size;
  };
  const std::vector<Case> cases = {{HandBuiltPng(100000, 100000), "100000x100000"},
                                   {HandBuiltJpeg(60000, 60000), "60000x60000"}};
  for (const auto& c : cases) {
    const auto start = std::chrono::steady_clock::now();
    auto decoded = DecodeImage(Codecs(), c.bytes, {});
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(CodeOf(decoded), "IMAGE_TOO_LARGE") << decoded.status();
    const std::string message(decoded.status().message());
    EXPECT_NE(message.find(c.size), std::string::npos) << message;
    EXPECT_NE(message.find("40000000"), std::string::npos) << message;
    EXPECT_LT(elapsed, std::chrono::milliseconds(100));
  }
  // The limit is inclusive.
  const std::string small = Encode(Pattern(10, 10), ".png");
  EXPECT_TRUE(DecodeImage(Codecs(), small, {.max_pixels = 100}).ok());
  EXPECT_EQ(CodeOf(DecodeImage(Codecs(), small, {.max_pixels = 99})), "IMAGE_TOO_LARGE");
}

TEST(ImageTest, CorruptBodyIsInvalid) {
  std::string png = Encode(Pattern(32, 32), ".png");
  const size_t idat = png.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  for (size_t i = idat + 4; i < idat + 24 && i < png.size(); ++i) png[i] = '\x5A';
  ASSERT_TRUE(ProbeImage(png).ok());
  auto decoded = DecodeImage(Codecs(), png, {});
  EXPECT_EQ(CodeOf(decoded), "INVALID_IMAGE") << decoded.status();

  EXPECT_EQ(CodeOf(DecodeImage(Codecs(), HandBuiltPng(8, 8), {})), "INVALID_IMAGE");
}

TEST(ImageTest, TruncatedFilesAreInvalid) {
  // libjpeg would decode a truncated JPEG with a warning and grey fill: refused.
  const std::string jpeg = Encode(Pattern(64, 48), ".jpg");
  ASSERT_TRUE(DecodeImage(Codecs(), jpeg, {}).ok());
  for (size_t keep : {jpeg.size() - 2, jpeg.size() / 2, jpeg.size() * 3 / 4}) {
    auto decoded = DecodeImage(Codecs(), std::string_view(jpeg).substr(0, keep), {});
    EXPECT_EQ(CodeOf(decoded), "INVALID_IMAGE") << keep << " of " << jpeg.size();
  }
  const std::string png = Encode(Pattern(64, 48), ".png");
  EXPECT_EQ(CodeOf(DecodeImage(Codecs(), std::string_view(png).substr(0, png.size() / 2), {})),
            "INVALID_IMAGE");
}

TEST(ImageTest, GreyAlphaAndDeepPngsDecodeToBgr) {
  const cv::Mat grey(5, 7, CV_8UC1, cv::Scalar(77));
  auto decoded = DecodeImage(Codecs(), Encode(grey, ".png"), {});
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->type(), CV_8UC3);
  EXPECT_EQ(decoded->at<cv::Vec3b>(2, 3), cv::Vec3b(77, 77, 77));

  const cv::Mat bgra(5, 7, CV_8UC4, cv::Scalar(10, 20, 30, 128));
  decoded = DecodeImage(Codecs(), Encode(bgra, ".png"), {});
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->type(), CV_8UC3);
  EXPECT_EQ(decoded->at<cv::Vec3b>(4, 6), cv::Vec3b(10, 20, 30));

  const cv::Mat deep(5, 7, CV_16UC3, cv::Scalar(65535, 0, 32896));
  decoded = DecodeImage(Codecs(), Encode(deep, ".png"), {});
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->type(), CV_8UC3);
  EXPECT_EQ(decoded->at<cv::Vec3b>(0, 0), cv::Vec3b(255, 0, 128));
}

// A 40×20 JPEG, dark on the left half and bright on the right, with an
// Exif APP1 segment inserted right after SOI.
std::string JpegWithOrientation(int orientation) {
  cv::Mat image(20, 40, CV_8UC3, cv::Scalar::all(0));
  image(cv::Rect(20, 0, 20, 20)).setTo(cv::Scalar::all(255));
  const std::string jpeg = Encode(image, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95});
  return jpeg.substr(0, 2) + ExifApp1(orientation) + jpeg.substr(2);
}

double MeanOf(const cv::Mat& image, cv::Rect rect) { return cv::mean(image(rect))[0]; }

TEST(ImageTest, AppliesExifOrientation) {
  auto plain = DecodeImage(Codecs(), JpegWithOrientation(1), {});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->cols, 40);
  EXPECT_EQ(plain->rows, 20);
  EXPECT_LT(MeanOf(*plain, {0, 0, 15, 20}), 30);
  EXPECT_GT(MeanOf(*plain, {25, 0, 15, 20}), 225);

  // 6: rotate 90° clockwise to display, so the left half ends up on top.
  const std::string rotated = JpegWithOrientation(6);
  auto info = ProbeImage(rotated);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->width, 40);  // as stored
  auto cw = DecodeImage(Codecs(), rotated, {});
  ASSERT_TRUE(cw.ok()) << cw.status();
  EXPECT_EQ(cw->cols, 20);
  EXPECT_EQ(cw->rows, 40);
  EXPECT_LT(MeanOf(*cw, {0, 0, 20, 15}), 30);
  EXPECT_GT(MeanOf(*cw, {0, 25, 20, 15}), 225);

  // 8: rotate 90° counter-clockwise, so the left half ends up at the bottom.
  auto ccw = DecodeImage(Codecs(), JpegWithOrientation(8), {});
  ASSERT_TRUE(ccw.ok()) << ccw.status();
  EXPECT_EQ(ccw->rows, 40);
  EXPECT_GT(MeanOf(*ccw, {0, 0, 20, 15}), 225);
  EXPECT_LT(MeanOf(*ccw, {0, 25, 20, 15}), 30);
}

// What OpenCV alone makes of `bytes` (the reference the TurboJPEG path must equal).
cv::Mat OpenCvDecode(const std::string& bytes) {
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
  return cv::imdecode(buffer, cv::IMREAD_COLOR);
}

TEST(ImageTest, PlainJpegsDecodeThroughTurboJpegToOpenCvsExactPixels) {
  const cv::Mat colour = Pattern(67, 33);  // odd sizes: partial MCUs at both edges
  cv::Mat grey;
  cv::extractChannel(colour, grey, 1);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"baseline 4:2:0", Encode(colour, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 90})},
      {"progressive", Encode(colour, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1})},
      {"restart intervals", Encode(colour, ".jpg", {cv::IMWRITE_JPEG_RST_INTERVAL, 2})},
      {"optimised Huffman", Encode(colour, ".jpg", {cv::IMWRITE_JPEG_OPTIMIZE, 1})},
      {"grey", Encode(grey, ".jpg")},
  };
  for (const auto& [name, jpeg] : cases) {
    const int64_t before = Codecs().turbo_decodes();
    auto decoded = DecodeImage(Codecs(), jpeg, {});
    ASSERT_TRUE(decoded.ok()) << name << ": " << decoded.status();
    EXPECT_EQ(Codecs().turbo_decodes(), before + 1) << name;
    const cv::Mat reference = OpenCvDecode(jpeg);
    ASSERT_EQ(decoded->size(), reference.size()) << name;
    ASSERT_EQ(decoded->type(), CV_8UC3) << name;
    EXPECT_EQ(cv::norm(*decoded, reference, cv::NORM_INF), 0) << name;
  }
}

TEST(ImageTest, JpegsWithExifOrCorruptDataDecodeThroughOpenCv) {
  // Exif: OpenCV applies the orientation (AppliesExifOrientation); TurboJPEG is not asked.
  const std::string exif = JpegWithOrientation(6);
  auto info = ProbeImage(exif);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->exif);
  int64_t before = Codecs().turbo_decodes();
  auto rotated = DecodeImage(Codecs(), exif, {});
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ(Codecs().turbo_decodes(), before);
  EXPECT_EQ(rotated->rows, 40);

  // Entropy-coded data with a stray restart marker: libjpeg warns and fills in;
  // TurboJPEG gives up on a warning, and OpenCV's answer (as before) stands.
  std::string corrupt = Encode(Pattern(64, 48), ".jpg", {cv::IMWRITE_JPEG_QUALITY, 90});
  const size_t sos = corrupt.find("\xFF\xDA");
  ASSERT_NE(sos, std::string::npos);
  corrupt[sos + 40] = '\xFF';
  corrupt[sos + 41] = '\xD5';
  info = ProbeImage(corrupt);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_FALSE(info->exif);
  before = Codecs().turbo_decodes();
  auto decoded = DecodeImage(Codecs(), corrupt, {});
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(Codecs().turbo_decodes(), before);
  EXPECT_EQ(cv::norm(*decoded, OpenCvDecode(corrupt), cv::NORM_INF), 0);
}

TEST(ImageTest, EncodeJpegRoundTrips) {
  cv::Mat image(24, 32, CV_8UC3, cv::Scalar(40, 120, 200));
  auto jpeg = EncodeJpeg(Codecs(), image, 90);
  ASSERT_TRUE(jpeg.ok()) << jpeg.status();
  auto info = ProbeImage(*jpeg);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->format, ImageFormat::kJpeg);
  auto decoded = DecodeImage(Codecs(), *jpeg, {});
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_LE(cv::norm(*decoded, image, cv::NORM_INF), 4);

  EXPECT_EQ(ErrorCodeOf(EncodeJpeg(Codecs(), cv::Mat(), 90).status()), "INVALID_IMAGE");
  EXPECT_FALSE(EncodeJpeg(Codecs(), image, 101).ok());
}

}  // namespace
}  // namespace cinfer::vision
