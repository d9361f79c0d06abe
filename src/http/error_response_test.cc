#include "http/error_response.h"

#include <gtest/gtest.h>

#include "common/errors.h"
#include "nlohmann/json.hpp"

namespace cinfer::http {
namespace {

TEST(ErrorResponseTest, MapsCodesToHttpStatus) {
  EXPECT_EQ(HttpStatusFor(InvalidJsonError("x")), 400);
  EXPECT_EQ(HttpStatusFor(ValidationError("x")), 422);
  EXPECT_EQ(HttpStatusFor(MakeError(absl::StatusCode::kInvalidArgument, "MODEL_REJECTED", "x")),
            422);
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
  auto st = WithDetails(
      MakeError(absl::StatusCode::kFailedPrecondition, "MODEL_STATE_CONFLICT", "cannot publish"),
      R"({"state":"published"})");
  Response r = ErrorResponse(st, "req-1");
  EXPECT_EQ(r.status, 409);
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"]["details"]["state"], "published");
  EXPECT_EQ(
      HttpStatusFor(MakeError(absl::StatusCode::kFailedPrecondition, "MODEL_LOAD_FAILED", "x")),
      422);
  // No details: no key.
  EXPECT_FALSE(
      nlohmann::json::parse(ErrorResponse(ValidationError("x"), "r").body)["error"].contains(
          "details"));
}

TEST(ErrorResponseTest, BodyCarriesCodeMessageRequestIdAndRetryAfter) {
  auto st = WithRetryAfter(
      MakeError(absl::StatusCode::kResourceExhausted, "TOO_MANY_ATTEMPTS", "slow down"), 42);
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

}  // namespace
}  // namespace cinfer::http
