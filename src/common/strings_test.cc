#include "common/strings.h"

#include <gtest/gtest.h>

#include <set>

#include "common/random.h"
#include "common/time_format.h"

namespace cinfer {
namespace {

TEST(StringsTest, SplitTrimLowerReplace) {
  EXPECT_EQ(Split("a,,b", ','), (std::vector<std::string_view>{"a", "", "b"}));
  EXPECT_EQ(Split("a,,b", ',', true), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_EQ(Trim("  x y \n"), "x y");
  EXPECT_EQ(ToLower("AbC"), "abc");
  EXPECT_EQ(ReplaceAll("A__B__C", "__", "."), "A.B.C");
  EXPECT_TRUE(EqualsIgnoreCase("Bearer", "bEARER"));
  EXPECT_EQ(StrCat("a", 1, std::string_view("b"), absl::string_view("c")), "a1bc");
}

TEST(StringsTest, HexAndUuid) {
  std::string raw;
  ASSERT_TRUE(HexDecode(HexEncode("\x01\xff"), &raw));
  EXPECT_EQ(raw, "\x01\xff");
  EXPECT_FALSE(HexDecode("abc", &raw));
  EXPECT_FALSE(HexDecode("zz", &raw));
  EXPECT_EQ(RandomHex(16).size(), 32u);
  EXPECT_NE(RandomHex(16), RandomHex(16));
  std::string uuid = NewUuid();
  EXPECT_EQ(uuid.size(), 36u);
  EXPECT_EQ(uuid[14], '4');
}

TEST(TimeFormatTest, Iso8601Utc) {
  Clock::TimePoint t{std::chrono::milliseconds(1'700'000'000'123)};
  EXPECT_EQ(FormatIso8601(t), "2023-11-14T22:13:20.123Z");
}

}  // namespace
}  // namespace cinfer

namespace cinfer {
namespace {

TEST(StringsTest, EscapeForLog) {
  EXPECT_EQ(EscapeForLog("plain text 1.2"), "plain text 1.2");
  EXPECT_EQ(EscapeForLog("a\nb\x1b[31m\\"), "a\\x0ab\\x1b[31m\\x5c");
  EXPECT_EQ(EscapeForLog("\xff\xd8"), "\\xff\\xd8");
  EXPECT_EQ(EscapeForLog("abcdef", 3), "abc...");
}

TEST(TimeFormatTest, TimesATimePointCannotHoldAreRefused) {
  EXPECT_FALSE(ParseRfc3339("9999-12-31T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2262-04-12T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("1600-01-01T00:00:00Z").has_value());
  auto t = ParseRfc3339("2262-04-11T00:00:00Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(FormatIso8601(*t), "2262-04-11T00:00:00.000Z");
}

TEST(IdSequenceTest, IdsAreUniqueAndWellFormed) {
  IdSequence ids;
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    const std::string hex = ids.NextHex();
    ASSERT_EQ(hex.size(), 16u);
    ASSERT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << hex;
    EXPECT_TRUE(seen.insert(hex).second) << hex;
    const std::string uuid = ids.NextUuid();
    ASSERT_EQ(uuid.size(), 36u);
    EXPECT_EQ(uuid[8], '-');
    EXPECT_EQ(uuid[14], '4') << uuid;                                          // version 4
    EXPECT_NE(std::string("89ab").find(uuid[19]), std::string::npos) << uuid;  // variant 10
    EXPECT_TRUE(seen.insert(uuid).second) << uuid;
  }
  IdSequence other;  // another key: another sequence
  EXPECT_FALSE(seen.count(other.NextHex()));
}

}  // namespace
}  // namespace cinfer
