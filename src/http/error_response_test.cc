#include "http/error_response.h"

#include <gtest/gtest.h>

#include "common/errors.h"
#include "nlohmann/json.hpp"

namespace cinfer::http {
namespace {

TEST(ErrorResponseTest, MapsCodesToHttpStatus) {
  EXPECT_EQ(HttpStatusFor(InvalidJsonError("x")), 400);
  EXPECT_EQ(HttpStatusFor(ValidationError("x")), 422);
  EXPECT_EQ(HttpStatusFor(MakeError(ErrorCode::kModelRejected, "x")), 422);
  EXPECT_EQ(HttpStatusFor(UnauthenticatedError("x")), 401);
  EXPECT_EQ(HttpStatusFor(ForbiddenError("x")), 403);
  EXPECT_EQ(HttpStatusFor(NotFoundError("x")), 404);
  EXPECT_EQ(HttpStatusFor(absl::AlreadyExistsError("x")), 409);
  EXPECT_EQ(HttpStatusFor(PayloadTooLargeError("x")), 413);
  EXPECT_EQ(HttpStatusFor(absl::ResourceExhaustedError("x")), 429);
  EXPECT_EQ(HttpStatusFor(absl::UnavailableError("x")), 503);
  EXPECT_EQ(HttpStatusFor(absl::DeadlineExceededError("x")), 504);
  EXPECT_EQ(HttpStatusFor(absl::InternalError("x")), 500);
}

TEST(ErrorResponseTest, DetailsAreAddedToTheErrorObject) {
  auto st = WithDetails(MakeError(ErrorCode::kModelStateConflict, "cannot publish"),
                        R"({"state":"published"})");
  Response r = ErrorResponse(st, "req-1");
  EXPECT_EQ(r.status, 409);
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"]["details"]["state"], "published");
  EXPECT_EQ(HttpStatusFor(MakeError(ErrorCode::kModelLoadFailed, "x")), 422);
  // No details: no key.
  EXPECT_FALSE(
      nlohmann::json::parse(ErrorResponse(ValidationError("x"), "r").body)["error"].contains(
          "details"));
}

TEST(ErrorResponseTest, BodyCarriesCodeMessageRequestIdAndRetryAfter) {
  auto st = WithRetryAfter(MakeError(ErrorCode::kTooManyAttempts, "slow down"), 42);
  Response r = ErrorResponse(st, "req-9");
  EXPECT_EQ(r.status, 429);
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"]["code"], "TOO_MANY_ATTEMPTS");
  EXPECT_EQ(body["error"]["message"], "slow down");
  EXPECT_EQ(body["error"]["request_id"], "req-9");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>("Retry-After", "42")));
}

TEST(ErrorResponseTest, InternalDetailsAreHidden) {
  auto body =
      nlohmann::json::parse(ErrorResponse(absl::InternalError("sqlite: disk I/O"), "r").body);
  EXPECT_EQ(body["error"]["code"], "INTERNAL");
  EXPECT_EQ(body["error"]["message"], "internal server error");
}

// The text ONNX Runtime 1.29 returned for a zero batch dimension, and for a
// model with external data, before engine errors were reduced.
constexpr const char* kOrtRunError =
    "[ErrorCode:RuntimeException] Non-zero status code returned while running Reshape node. "
    "Name:'/Reshape' Status Message: "
    "/onnxruntime_src/onnxruntime/core/providers/cpu/tensor/reshape_helper.h:84 "
    "onnxruntime::ReshapeHelper::ReshapeHelper(const onnxruntime::TensorShape&, "
    "onnxruntime::TensorShapeVector&, bool) input_shape_size == size was false. The input tensor "
    "cannot be reshaped to the requested shape. Input shape:{0,3,48,192}, requested shape:{0,-1}";
constexpr const char* kOrtLoadError =
    "Load model from /srv/cinfer/data/tmp/3fa2b1 failed:/onnxruntime_src/onnxruntime/core/"
    "graph/model.cc:180 onnxruntime::Model::Model(...) tensorprotoutils.cc:453 "
    "external data file '/srv/weights.bin' cannot be opened";

TEST(ErrorResponseTest, MessagesLoseLibraryInternals) {
  for (const char* raw : {kOrtRunError, kOrtLoadError}) {
    const std::string scrubbed = ScrubInternals(raw);
    EXPECT_EQ(scrubbed.find("/onnxruntime_src"), std::string::npos) << scrubbed;
    EXPECT_EQ(scrubbed.find("/srv"), std::string::npos) << scrubbed;
    EXPECT_EQ(scrubbed.find(".h:"), std::string::npos) << scrubbed;
    EXPECT_EQ(scrubbed.find(".cc:"), std::string::npos) << scrubbed;
    EXPECT_EQ(scrubbed.find("::"), std::string::npos) << scrubbed;
    EXPECT_EQ(scrubbed.find("Name:'"), std::string::npos) << scrubbed;
  }
  EXPECT_NE(ScrubInternals(kOrtRunError).find("Input shape:{0,3,48,192}"), std::string::npos);
  EXPECT_NE(ScrubInternals(kOrtLoadError).find("cannot be opened"), std::string::npos);
  // Ordinary messages are unchanged; IPv6 addresses and media types are not internals.
  EXPECT_EQ(ScrubInternals("Load model from /srv/x failed:std::bad_alloc"),
            "Load model from <path> failed:std::bad_alloc");
  for (const char* plain : {"client ::1 is not allowed", "input 'x' has shape [1,3]",
                            "only /128 is accepted", "10.0.0.0/8 (prefix 0..32)",
                            "expected image/png or image/jpeg", "name 'a' taken (2 of 3)"}) {
    EXPECT_EQ(ScrubInternals(plain), plain);
  }
}

TEST(ErrorResponseTest, HiddenDetailsAreNeverSent) {
  absl::Status st =
      WithHiddenDetail(WithRetryAfter(MakeError(ErrorCode::kModelRejected, kOrtLoadError), 3),
                       "the model could not be loaded");
  EXPECT_EQ(HiddenDetailOf(st), kOrtLoadError);
  EXPECT_EQ(ErrorCodeOf(st), "MODEL_REJECTED");
  EXPECT_EQ(RetryAfterOf(st), 3);
  Response r = ErrorResponse(st, "rid-1");
  EXPECT_EQ(r.status, 422);
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"]["message"], "the model could not be loaded");
  EXPECT_EQ(r.body.find("onnxruntime"), std::string::npos);
}

}  // namespace
}  // namespace cinfer::http
