#include "text/display_name.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/errors.h"

namespace cinfer::text {
namespace {

using ::testing::HasSubstr;

TEST(DisplayNameTest, FreeTextInAnyScriptIsKept) {
  for (const char* name : {"cls", "PP-OCR det v4", "文字检测模型", "модель 1", "a.b", "x..y",
                           "...a", "Détecteur (v2)"}) {
    auto n = NormalizeDisplayName(name, "name");
    ASSERT_TRUE(n.ok()) << name << ": " << n.status();
    EXPECT_EQ(*n, name);
  }
}

TEST(DisplayNameTest, NamesAreNfcNormalised) {
  auto n = NormalizeDisplayName("Caf\x65\xCC\x81", "name");  // e + combining acute
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, "Caf\xC3\xA9");  // precomposed é
}

TEST(DisplayNameTest, RefusedNames) {
  for (const char* name : {"",
                           " ",
                           "../x",
                           "a/b",
                           "a\\b",
                           ".",
                           "..",
                           "...",
                           " cls",
                           "cls ",
                           "cls\t",
                           "a\nb",
                           "a\x7f"
                           "b",
                           "a\xE2\x80\x8B"
                           "b",  // U+200B zero-width space
                           "a\xE2\x80\x8D"
                           "b",  // U+200D zero-width joiner
                           "\xE2\x80\xAE"
                           "exe",             // U+202E right-to-left override
                           "x\xE2\x81\xA6y",  // U+2066 left-to-right isolate
                           "\xEF\xBB\xBF"
                           "cls",       // U+FEFF byte order mark
                           "\xC3\x28",  // invalid UTF-8
                           "\xE3\x80\x80"
                           "cls"}) {  // ideographic space at the start
    auto n = NormalizeDisplayName(name, "name");
    EXPECT_FALSE(n.ok()) << name;
    if (!n.ok()) {
      EXPECT_EQ(ErrorCodeOf(n.status()), "VALIDATION_FAILED");
      EXPECT_THAT(std::string(n.status().message()), HasSubstr("'name'"));
    }
  }
}

TEST(DisplayNameTest, LengthIsCountedInCharacters) {
  EXPECT_TRUE(NormalizeDisplayName(std::string(30, 'a'), "name", 30).ok());
  EXPECT_FALSE(NormalizeDisplayName(std::string(31, 'a'), "name", 30).ok());
  std::string chinese;
  for (int i = 0; i < 30; ++i) chinese += "\xE6\xA8\xA1";  // 模, 3 bytes
  EXPECT_TRUE(NormalizeDisplayName(chinese, "name", 30).ok());
}

TEST(DisplayNameTest, ConfusablesCollide) {
  const std::vector<std::string> existing = {"det", "cls", "文字检测"};
  EXPECT_EQ(FindConfusable("\xD1\x81ls", existing), "cls");  // Cyrillic с
  EXPECT_EQ(FindConfusable("cls", existing), "cls");
  EXPECT_EQ(FindConfusable("c1s", {"cls"}), "cls");  // 1 and l look alike
  EXPECT_EQ(FindConfusable("rn", {"m"}), "m");
  EXPECT_EQ(FindConfusable("文字检测", existing), "文字检测");
  EXPECT_EQ(FindConfusable("rec", existing), std::nullopt);
}

}  // namespace
}  // namespace cinfer::text
