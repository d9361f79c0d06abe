// Images here are synthetic cv::Mats built in the test; no fixture files.
#include "vision/preprocess.h"

#include <cmath>

#include "common/errors.h"
#include "engines/tensor_json.h"
#include "gtest/gtest.h"

namespace cinfer::vision {
namespace {

InputSpec Spec(int64_t width, int64_t height, ResizeMode resize, DataType dtype = DataType::kFp32,
               Layout layout = Layout::kNchw) {
  InputSpec spec;
  spec.width = width;
  spec.height = height;
  spec.resize = resize;
  spec.color = ColorOrder::kBgr;
  spec.layout = layout;
  spec.dtype = dtype;
  return spec;
}

const float* Floats(const PreparedImage& p) {
  return reinterpret_cast<const float*>(p.data.data());
}
const uint8_t* Bytes(const PreparedImage& p) {
  return reinterpret_cast<const uint8_t*>(p.data.data());
}

// The value at channel c, row y, column x of an NCHW FP32 row.
float At(const PreparedImage& p, int c, int y, int x) {
  return Floats(p)[(c * p.row_shape[1] + y) * p.row_shape[2] + x];
}

// 2×2 BGR image; pixel (y, x) = (B, G, R) = (10*k+1, 10*k+2, 10*k+3) with k = 2y + x.
cv::Mat Tiny() {
  cv::Mat image(2, 2, CV_8UC3);
  for (int k = 0; k < 4; ++k) {
    image.at<cv::Vec3b>(k / 2, k % 2) = cv::Vec3b(10 * k + 1, 10 * k + 2, 10 * k + 3);
  }
  return image;
}

std::vector<uint8_t> Values(const PreparedImage& p) { return {Bytes(p), Bytes(p) + p.data.size()}; }

TEST(PreprocessTest, StretchScalesEachAxis) {
  auto p = PrepareImage(cv::Mat(50, 100, CV_8UC3, cv::Scalar::all(7)),
                        Spec(40, 40, ResizeMode::kStretch));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->dtype, DataType::kFp32);
  EXPECT_EQ(p->row_shape, (Shape{3, 40, 40}));
  EXPECT_EQ(p->data.size(), 3u * 40 * 40 * sizeof(float));
  EXPECT_EQ(p->transform.width, 100);
  EXPECT_EQ(p->transform.height, 50);
  EXPECT_DOUBLE_EQ(p->transform.scale_x, 0.4);
  EXPECT_DOUBLE_EQ(p->transform.scale_y, 0.8);
  EXPECT_EQ(p->transform.offset_x, 0);
  EXPECT_EQ(p->transform.offset_y, 0);
  EXPECT_FLOAT_EQ(At(*p, 1, 39, 39), 7 / 255.0f);
}

TEST(PreprocessTest, LetterboxPadsCentred) {
  InputSpec spec = Spec(64, 64, ResizeMode::kLetterbox);
  spec.pad_value = 114;
  auto p = PrepareImage(cv::Mat(50, 100, CV_8UC3, cv::Scalar::all(200)), spec);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_DOUBLE_EQ(p->transform.scale_x, 0.64);
  EXPECT_DOUBLE_EQ(p->transform.scale_y, 0.64);
  EXPECT_EQ(p->transform.offset_x, 0);
  EXPECT_EQ(p->transform.offset_y, 16);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 64; ++y) {
      const float expected = (y < 16 || y >= 48 ? 114 : 200) / 255.0f;
      for (int x = 0; x < 64; x += 9) {
        ASSERT_FLOAT_EQ(At(*p, c, y, x), expected) << c << " " << y << " " << x;
      }
    }
  }
  // Odd padding: the extra row goes to the bottom.
  auto odd = PrepareImage(cv::Mat(50, 100, CV_8UC3, cv::Scalar::all(200)),
                          Spec(64, 63, ResizeMode::kLetterbox));
  ASSERT_TRUE(odd.ok()) << odd.status();
  EXPECT_EQ(odd->transform.offset_y, 15);
  EXPECT_FLOAT_EQ(At(*odd, 0, 14, 0), 114 / 255.0f);
  EXPECT_FLOAT_EQ(At(*odd, 0, 15, 0), 200 / 255.0f);
  EXPECT_FLOAT_EQ(At(*odd, 0, 46, 0), 200 / 255.0f);
  EXPECT_FLOAT_EQ(At(*odd, 0, 47, 0), 114 / 255.0f);
}

TEST(PreprocessTest, CenterCropKeepsTheMiddle) {
  cv::Mat image(50, 100, CV_8UC3, cv::Scalar::all(50));
  image(cv::Rect(50, 0, 50, 50)).setTo(cv::Scalar::all(150));
  auto p = PrepareImage(image, Spec(40, 40, ResizeMode::kCenterCrop));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_DOUBLE_EQ(p->transform.scale_x, 0.8);
  EXPECT_DOUBLE_EQ(p->transform.scale_y, 0.8);
  EXPECT_EQ(p->transform.offset_x, -20);
  EXPECT_EQ(p->transform.offset_y, 0);
  // Resized to 80×40, columns 20..59 kept: original 25..74.
  EXPECT_FLOAT_EQ(At(*p, 0, 20, 5), 50 / 255.0f);
  EXPECT_FLOAT_EQ(At(*p, 0, 20, 35), 150 / 255.0f);
}

TEST(PreprocessTest, ToOriginalMapsTheCentreBack) {
  struct Case {
    int w, h;
    int64_t tw, th;
    double tolerance;  // in original pixels
  };
  // Sizes that scale evenly map back within half a pixel. Otherwise the
  // integer padding / crop and the rounded resized size shift the content by
  // up to one model pixel, i.e. 1 / scale original pixels.
  const std::vector<Case> cases = {{100, 50, 64, 64, 0.5},
                                   {100, 50, 40, 40, 0.5},
                                   {200, 100, 50, 45, 0.5},
                                   {333, 201, 64, 48, 333 / 64.0},
                                   {31, 97, 40, 40, 97 / 40.0}};
  for (const Case& c : cases) {
    for (ResizeMode mode :
         {ResizeMode::kStretch, ResizeMode::kLetterbox, ResizeMode::kCenterCrop}) {
      auto p = PrepareImage(cv::Mat(c.h, c.w, CV_8UC3, cv::Scalar::all(1)), Spec(c.tw, c.th, mode));
      ASSERT_TRUE(p.ok()) << p.status();
      EXPECT_NEAR(p->transform.ToOriginalX(c.tw / 2.0), c.w / 2.0, c.tolerance)
          << c.w << "x" << c.h << " mode " << static_cast<int>(mode);
      EXPECT_NEAR(p->transform.ToOriginalY(c.th / 2.0), c.h / 2.0, c.tolerance)
          << c.w << "x" << c.h << " mode " << static_cast<int>(mode);
    }
  }
  // The letterbox's image corner maps to the original corner.
  auto p = PrepareImage(cv::Mat(50, 100, CV_8UC3, cv::Scalar::all(0)),
                        Spec(64, 64, ResizeMode::kLetterbox));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_DOUBLE_EQ(p->transform.ToOriginalX(0), 0);
  EXPECT_DOUBLE_EQ(p->transform.ToOriginalY(16), 0);
  EXPECT_DOUBLE_EQ(p->transform.ToOriginalX(64), 100);
  EXPECT_DOUBLE_EQ(p->transform.ToOriginalY(48), 50);
}

TEST(PreprocessTest, LayoutsOrderElements) {
  auto nchw = PrepareImage(Tiny(), Spec(2, 2, ResizeMode::kStretch, DataType::kUint8));
  ASSERT_TRUE(nchw.ok()) << nchw.status();
  EXPECT_EQ(nchw->row_shape, (Shape{3, 2, 2}));
  EXPECT_EQ(Values(*nchw), (std::vector<uint8_t>{1, 11, 21, 31, 2, 12, 22, 32, 3, 13, 23, 33}));

  auto nhwc =
      PrepareImage(Tiny(), Spec(2, 2, ResizeMode::kStretch, DataType::kUint8, Layout::kNhwc));
  ASSERT_TRUE(nhwc.ok()) << nhwc.status();
  EXPECT_EQ(nhwc->row_shape, (Shape{2, 2, 3}));
  EXPECT_EQ(Values(*nhwc), (std::vector<uint8_t>{1, 2, 3, 11, 12, 13, 21, 22, 23, 31, 32, 33}));

  // FP32 in both layouts: the same elements, transposed.
  auto f_nchw = PrepareImage(Tiny(), Spec(2, 2, ResizeMode::kLetterbox));
  auto f_nhwc =
      PrepareImage(Tiny(), Spec(2, 2, ResizeMode::kCenterCrop, DataType::kFp32, Layout::kNhwc));
  ASSERT_TRUE(f_nchw.ok() && f_nhwc.ok());
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < 4; ++i) {
      EXPECT_FLOAT_EQ(Floats(*f_nchw)[c * 4 + i], Floats(*f_nhwc)[i * 3 + c]);
      EXPECT_FLOAT_EQ(Floats(*f_nchw)[c * 4 + i], (10 * i + c + 1) / 255.0f);
    }
  }
}

TEST(PreprocessTest, RgbSwapsChannelsZeroAndTwo) {
  InputSpec spec = Spec(2, 2, ResizeMode::kStretch, DataType::kUint8);
  spec.color = ColorOrder::kRgb;
  auto rgb = PrepareImage(Tiny(), spec);
  ASSERT_TRUE(rgb.ok()) << rgb.status();
  EXPECT_EQ(Values(*rgb), (std::vector<uint8_t>{3, 13, 23, 33, 2, 12, 22, 32, 1, 11, 21, 31}));
  spec.layout = Layout::kNhwc;
  rgb = PrepareImage(Tiny(), spec);
  ASSERT_TRUE(rgb.ok()) << rgb.status();
  EXPECT_EQ(Values(*rgb), (std::vector<uint8_t>{3, 2, 1, 13, 12, 11, 23, 22, 21, 33, 32, 31}));

  // The caller's image is left alone, even when no resize was needed.
  const cv::Mat image = Tiny();
  for (ResizeMode mode : {ResizeMode::kStretch, ResizeMode::kLetterbox, ResizeMode::kCenterCrop}) {
    spec.resize = mode;
    ASSERT_TRUE(PrepareImage(image, spec).ok());
    EXPECT_EQ(cv::norm(image, Tiny(), cv::NORM_INF), 0);
  }
}

TEST(PreprocessTest, NormalisesWithScaleMeanAndStd) {
  const cv::Mat image(6, 8, CV_8UC3, cv::Scalar(10, 20, 30));  // B, G, R
  InputSpec spec = Spec(4, 3, ResizeMode::kStretch, DataType::kFp64, Layout::kNhwc);
  spec.color = ColorOrder::kRgb;
  spec.scale = 1 / 255.0;
  spec.mean = {0.485, 0.456, 0.406};
  spec.std = {0.229, 0.224, 0.225};
  const double pixel[3] = {30, 20, 10};  // R, G, B: the output order
  auto p = PrepareImage(image, spec);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->data.size(), 4u * 3 * 3 * sizeof(double));
  const double* d = reinterpret_cast<const double*>(p->data.data());
  for (int i = 0; i < 12; ++i) {
    for (int c = 0; c < 3; ++c) {
      ASSERT_DOUBLE_EQ(d[i * 3 + c], (pixel[c] * spec.scale - spec.mean[c]) / spec.std[c]);
    }
  }

  spec.dtype = DataType::kFp32;
  spec.layout = Layout::kNchw;
  spec.scale = 2;
  spec.mean = {1, 2, 3};
  spec.std = {4, 5, 8};
  p = PrepareImage(image, spec);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FLOAT_EQ(At(*p, 0, 0, 0), (60 - 1) / 4.0f);
  EXPECT_FLOAT_EQ(At(*p, 1, 1, 1), (40 - 2) / 5.0f);
  EXPECT_FLOAT_EQ(At(*p, 2, 2, 3), (20 - 3) / 8.0f);
}

TEST(PreprocessTest, Fp16AndUint8Outputs) {
  const cv::Mat image(4, 4, CV_8UC3, cv::Scalar(0, 128, 255));
  InputSpec spec = Spec(4, 4, ResizeMode::kStretch, DataType::kFp16);
  spec.mean = {0.5, 0.5, 0.5};
  spec.std = {0.5, 0.5, 0.5};
  auto half = PrepareImage(image, spec);
  ASSERT_TRUE(half.ok()) << half.status();
  EXPECT_EQ(half->dtype, DataType::kFp16);
  ASSERT_EQ(half->data.size(), 3u * 16 * 2);
  const uint16_t* h = reinterpret_cast<const uint16_t*>(half->data.data());
  EXPECT_EQ(HalfToFloat(h[0]), -1.0f);
  EXPECT_NEAR(HalfToFloat(h[16]), (128 / 255.0 - 0.5) / 0.5, 1e-3);
  EXPECT_EQ(HalfToFloat(h[47]), 1.0f);

  // UINT8: raw pixels; scale, mean and std do not apply.
  spec.dtype = DataType::kUint8;
  auto raw = PrepareImage(image, spec);
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_EQ(raw->data.size(), 3u * 16);
  EXPECT_EQ(Bytes(*raw)[0], 0);
  EXPECT_EQ(Bytes(*raw)[16], 128);
  EXPECT_EQ(Bytes(*raw)[47], 255);
}

TEST(PreprocessTest, SpecErrorsNameTheField) {
  const cv::Mat image(4, 4, CV_8UC3, cv::Scalar::all(0));
  struct Case {
    InputSpec spec;
    std::string needle;
  };
  std::vector<Case> cases(6, {Spec(4, 4, ResizeMode::kStretch), ""});
  cases[0].spec.width = 0;
  cases[0].needle = "input.width";
  cases[1].spec.height = -3;
  cases[1].needle = "input.height";
  cases[2].spec.layout.reset();
  cases[2].needle = "input.layout";
  cases[3].spec.dtype.reset();
  cases[3].needle = "input.dtype";
  cases[4].spec.dtype = DataType::kInt8;
  cases[4].needle = "not supported for images";
  cases[5].spec.std = {1, 0, 1};
  cases[5].needle = "input.std";
  for (const auto& c : cases) {
    auto p = PrepareImage(image, c.spec);
    ASSERT_FALSE(p.ok()) << c.needle;
    EXPECT_EQ(ErrorCodeOf(p.status()), "VALIDATION_FAILED");
    EXPECT_NE(std::string(p.status().message()).find(c.needle), std::string::npos) << p.status();
  }
  EXPECT_FALSE(PrepareImage(cv::Mat(), Spec(4, 4, ResizeMode::kStretch)).ok());
  EXPECT_FALSE(
      PrepareImage(cv::Mat(4, 4, CV_8UC1, cv::Scalar::all(0)), Spec(4, 4, ResizeMode::kStretch))
          .ok());
}

TEST(PreprocessTest, StackRowsAddsTheBatchDimension) {
  const InputSpec spec = Spec(4, 3, ResizeMode::kLetterbox);
  auto a = PrepareImage(cv::Mat(10, 10, CV_8UC3, cv::Scalar::all(1)), spec);
  auto b = PrepareImage(cv::Mat(20, 5, CV_8UC3, cv::Scalar::all(2)), spec);
  ASSERT_TRUE(a.ok() && b.ok());
  auto t = StackRows({&*a, &*b}, "images");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->name, "images");
  EXPECT_EQ(t->dtype, DataType::kFp32);
  EXPECT_EQ(t->shape, (Shape{2, 3, 3, 4}));
  ASSERT_EQ(t->data.size(), a->data.size() * 2);
  EXPECT_TRUE(std::equal(a->data.begin(), a->data.end(), t->data.begin()));
  EXPECT_TRUE(std::equal(b->data.begin(), b->data.end(), t->data.begin() + a->data.size()));

  auto other_size =
      PrepareImage(cv::Mat(10, 10, CV_8UC3, cv::Scalar::all(0)), Spec(4, 4, ResizeMode::kStretch));
  auto other_type = PrepareImage(cv::Mat(10, 10, CV_8UC3, cv::Scalar::all(0)),
                                 Spec(4, 3, ResizeMode::kStretch, DataType::kFp16));
  ASSERT_TRUE(other_size.ok() && other_type.ok());
  EXPECT_EQ(ErrorCodeOf(StackRows({&*a, &*other_size}, "x").status()), "VALIDATION_FAILED");
  EXPECT_EQ(ErrorCodeOf(StackRows({&*a, &*other_type}, "x").status()), "VALIDATION_FAILED");
  EXPECT_EQ(ErrorCodeOf(StackRows({}, "x").status()), "VALIDATION_FAILED");
}

TEST(PreprocessTest, OneRowIsStackRowsOfOneImageWithoutTheCopy) {
  const InputSpec spec = Spec(4, 3, ResizeMode::kLetterbox);
  auto a = PrepareImage(cv::Mat(10, 10, CV_8UC3, cv::Scalar::all(7)), spec);
  ASSERT_TRUE(a.ok());
  auto stacked = StackRows({&*a}, "images");
  ASSERT_TRUE(stacked.ok());
  const std::byte* pixels = a->data.data();
  Tensor one = OneRow(*std::move(a), "images");
  EXPECT_EQ(one.name, stacked->name);
  EXPECT_EQ(one.dtype, stacked->dtype);
  EXPECT_EQ(one.shape, (Shape{1, 3, 3, 4}));
  EXPECT_EQ(one.data, stacked->data);
  EXPECT_EQ(one.data.data(), pixels);  // the same buffer, moved
}

}  // namespace
}  // namespace cinfer::vision
