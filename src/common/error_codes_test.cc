#include "common/error_codes.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "common/errors.h"
#include "yaml-cpp/yaml.h"

namespace cinfer {
namespace {

TEST(ErrorCodesTest, EveryCodeHasOneUpperSnakeNameAndAnErrorStatus) {
  std::set<std::string_view> names;
  const std::regex upper_snake("[A-Z]+(_[A-Z]+)*");
  for (const ErrorCodeInfo& info : AllErrorCodes()) {
    EXPECT_TRUE(names.insert(info.name).second) << "twice: " << info.name;
    EXPECT_TRUE(std::regex_match(std::string(info.name), upper_snake)) << info.name;
    EXPECT_NE(info.status_code, absl::StatusCode::kOk) << info.name;
    EXPECT_GE(info.http_status, 400) << info.name;
    EXPECT_LT(info.http_status, 600) << info.name;
  }
}

TEST(ErrorCodesTest, AStatusMadeWithACodeCarriesItsTableRow) {
  for (const ErrorCodeInfo& info : AllErrorCodes()) {
    const absl::Status st = MakeError(info.code, "x");
    EXPECT_EQ(st.code(), info.status_code) << info.name;
    EXPECT_EQ(ErrorCodeOf(st), info.name);
    EXPECT_EQ(ErrorCodeEnumOf(st), info.code);
    EXPECT_TRUE(HasErrorCode(st, info.code));
    EXPECT_EQ(HttpStatusFor(st), info.http_status) << info.name;
    EXPECT_EQ(ErrorCodeNamed(info.name), info.code);
  }
  EXPECT_EQ(ErrorCodeNamed("NO_SUCH_CODE"), std::nullopt);
  EXPECT_FALSE(HasErrorCode(absl::OkStatus(), ErrorCode::kInternal));
  EXPECT_EQ(HttpStatusFor(absl::OkStatus()), 200);
}

TEST(ErrorCodesTest, AStatusWithoutACodeIsAnsweredWithItsStatusCodesDefault) {
  EXPECT_EQ(ErrorCodeOf(absl::InvalidArgumentError("x")), "BAD_REQUEST");
  EXPECT_EQ(ErrorCodeOf(absl::OutOfRangeError("x")), "BAD_REQUEST");
  EXPECT_EQ(ErrorCodeOf(absl::NotFoundError("x")), "NOT_FOUND");
  EXPECT_EQ(ErrorCodeOf(absl::AbortedError("x")), "CONFLICT");
  EXPECT_EQ(HttpStatusFor(absl::AbortedError("x")), 409);
  EXPECT_EQ(ErrorCodeOf(absl::DataLossError("x")), "INTERNAL");
  EXPECT_EQ(HttpStatusFor(absl::UnimplementedError("x")), 501);
  // A code payload the table does not know falls back the same way.
  absl::Status odd = absl::UnavailableError("x");
  odd.SetPayload("cinfer/error_code", absl::Cord("SOMETHING_ELSE"));
  EXPECT_EQ(ErrorCodeOf(odd), "UNAVAILABLE");
  EXPECT_EQ(HttpStatusFor(odd), 503);
}

TEST(ErrorCodesTest, OpenApiListsExactlyTheTablesCodes) {
  const YAML::Node doc = YAML::LoadFile(CINFER_SOURCE_DIR "/api/openapi.yaml");
  const YAML::Node listed =
      doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"];
  ASSERT_TRUE(listed.IsSequence()) << "Error.error.code has no enum in api/openapi.yaml";
  std::vector<std::string> documented;
  for (const YAML::Node& n : listed) documented.push_back(n.as<std::string>());
  std::vector<std::string> table;
  for (const ErrorCodeInfo& info : AllErrorCodes()) table.emplace_back(info.name);
  EXPECT_EQ(documented, table);
}

}  // namespace
}  // namespace cinfer
