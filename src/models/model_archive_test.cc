#include "models/model_archive.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "engines/engine_test_util.h"
#include "testing/model_bundle_fixtures.h"
#include "testing/temp_dir.h"

namespace cinfer {
namespace {

namespace fs = std::filesystem;
using testing::ArchiveEntry;
using testing::ArchiveKind;
using testing::ListTree;
using testing::ReadAll;
using testing::WriteArchive;

// A ustar header for a regular file whose size field says `size` (base-256 when
// it does not fit the 11 octal digits), with a valid checksum.
std::string TarHeader(const std::string& name, uint64_t size) {
  std::string h(512, '\0');
  h.replace(0, name.size(), name);
  h.replace(100, 7, "0000644");
  h.replace(108, 7, "0000000");
  h.replace(116, 7, "0000000");
  h[124] = static_cast<char>(0x80);  // base-256, big-endian in the remaining 11 bytes
  for (int i = 0; i < 8; ++i) h[135 - i] = static_cast<char>(size >> (8 * i));
  h.replace(136, 11, "00000000000");
  h[156] = '0';
  h.replace(257, 6, std::string("ustar\0", 6));
  h.replace(263, 2, "00");
  h.replace(148, 8, "        ");
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  char field[8];
  std::snprintf(field, sizeof field, "%06o", sum);
  h.replace(148, 7, std::string(field, 6) + '\0');
  return h;
}

class UnpackArchiveTest : public ::testing::Test {
 protected:
  // Writes `entries` as an archive of `kind` and unpacks it into dest().
  absl::StatusOr<std::vector<std::string>> Unpack(ArchiveKind kind,
                                                  const std::vector<ArchiveEntry>& entries,
                                                  const ArchiveLimits& limits = {}) {
    const std::string path = tmp_.File(kind == ArchiveKind::kZip ? "in.zip" : "in.tar.gz");
    EXPECT_TRUE(WriteArchive(path, kind, entries));
    return UnpackArchive(path, dest(), limits);
  }
  absl::StatusOr<std::vector<std::string>> UnpackBytes(const std::string& bytes,
                                                       const ArchiveLimits& limits = {}) {
    testing::WriteAll(tmp_.File("raw"), bytes);
    return UnpackArchive(tmp_.File("raw"), dest(), limits);
  }
  std::string dest() const { return tmp_.File("dest"); }
  // A refusal leaves nothing behind, not even the folders it made.
  void ExpectRefused(const absl::StatusOr<std::vector<std::string>>& r, absl::StatusCode code,
                     const std::string& message_part) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), code) << r.status();
    EXPECT_NE(std::string(r.status().message()).find(message_part), std::string::npos)
        << r.status();
    EXPECT_TRUE(ListTree(dest()).empty());
  }

  testing::TempDir tmp_;
};

TEST_F(UnpackArchiveTest, UnpacksFilesAndFoldersOfZipAndTarGz) {
  for (ArchiveKind kind : {ArchiveKind::kZip, ArchiveKind::kTarGz, ArchiveKind::kTar}) {
    fs::remove_all(dest());
    auto r = Unpack(kind, {{"m/", "", AE_IFDIR},
                           {"m/a.xml", "<net/>"},
                           {"./m/sub/b.bin", std::string(3000, 'b')},
                           {"c.txt", ""}});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, (std::vector<std::string>{"m/a.xml", "m/sub/b.bin", "c.txt"}));
    EXPECT_EQ(ReadAll(dest() + "/m/sub/b.bin"), std::string(3000, 'b'));
    EXPECT_EQ(fs::status(dest() + "/m/a.xml").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
  }
}

TEST_F(UnpackArchiveTest, RefusesNamesLeavingTheFolder) {
  for (ArchiveKind kind : {ArchiveKind::kZip, ArchiveKind::kTarGz}) {
    ExpectRefused(Unpack(kind, {{"ok/a.bin", "x"}, {"../evil", "x"}}),
                  absl::StatusCode::kInvalidArgument, "archive entry '../evil' leaves the folder");
    ExpectRefused(Unpack(kind, {{"a/../../evil", "x"}}), absl::StatusCode::kInvalidArgument,
                  "leaves the folder");
    ExpectRefused(Unpack(kind, {{"ok.bin", "x"}, {"/tmp/cinfer-evil", "x"}}),
                  absl::StatusCode::kInvalidArgument, "is an absolute path");
  }
  EXPECT_FALSE(fs::exists(tmp_.File("evil")));
  EXPECT_FALSE(fs::exists("/tmp/cinfer-evil"));
}

TEST_F(UnpackArchiveTest, RefusesLinksAndSpecialFiles) {
  for (ArchiveKind kind : {ArchiveKind::kZip, ArchiveKind::kTarGz}) {
    ExpectRefused(Unpack(kind, {{"a.bin", "x"}, {"link", "", AE_IFLNK, "/etc/passwd"}}),
                  absl::StatusCode::kInvalidArgument, "'link' is a symbolic link");
  }
  ExpectRefused(Unpack(ArchiveKind::kTarGz,
                       {{"a.bin", "x"}, {"b.bin", "", AE_IFREG, "a.bin", /*hard=*/true}}),
                absl::StatusCode::kInvalidArgument, "'b.bin' is a hard link");
  ExpectRefused(Unpack(ArchiveKind::kTarGz, {{"a.bin", "x"}, {"null", "", AE_IFCHR}}),
                absl::StatusCode::kInvalidArgument, "'null' is a device, fifo or socket");
  ExpectRefused(Unpack(ArchiveKind::kTar, {{"fifo", "", AE_IFIFO}}),
                absl::StatusCode::kInvalidArgument, "is a device, fifo or socket");
}

TEST_F(UnpackArchiveTest, RefusesBadNames) {
  ExpectRefused(Unpack(ArchiveKind::kTarGz, {{"a.bin", "x"}, {"a.bin", "y"}}),
                absl::StatusCode::kInvalidArgument, "'a.bin' appears twice");
  ExpectRefused(Unpack(ArchiveKind::kZip, {{"a.bin", "x"}, {"./a.bin", "y"}}),
                absl::StatusCode::kInvalidArgument, "appears twice");
  ExpectRefused(Unpack(ArchiveKind::kTarGz, {{"bad\x01name", "x"}}),
                absl::StatusCode::kInvalidArgument, "control character");
  ExpectRefused(Unpack(ArchiveKind::kTarGz, {{std::string(256, 'n'), "x"}}),
                absl::StatusCode::kInvalidArgument, "longer than 255 bytes");
  ExpectRefused(Unpack(ArchiveKind::kZip, {{"a/b/c/d/e/f.bin", "x"}}),
                absl::StatusCode::kInvalidArgument, "more than 4 folders deep");
  EXPECT_TRUE(Unpack(ArchiveKind::kZip, {{"a/b/c/d/f.bin", "x"}}).ok());
}

TEST_F(UnpackArchiveTest, RefusesTenThousandEntriesQuickly) {
  std::vector<ArchiveEntry> many;
  for (int i = 0; i < 10000; ++i) many.push_back({"f" + std::to_string(i), "x"});
  for (ArchiveKind kind : {ArchiveKind::kZip, ArchiveKind::kTarGz}) {
    const auto start = std::chrono::steady_clock::now();
    ExpectRefused(Unpack(kind, many), absl::StatusCode::kResourceExhausted, "more than 64 entries");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  }
}

TEST_F(UnpackArchiveTest, RefusesFilesOverTheLimits) {
  ArchiveLimits limits;
  limits.max_entry_bytes = 4096;
  limits.max_unpacked_bytes = 10000;
  ExpectRefused(
      Unpack(ArchiveKind::kZip, {{"a.bin", "x"}, {"b.bin", std::string(5000, 'b')}}, limits),
      absl::StatusCode::kResourceExhausted, "'b.bin' is larger than 4096 bytes");
  const std::string part(4000, 'p');
  ExpectRefused(Unpack(ArchiveKind::kTarGz, {{"a", part}, {"b", part}, {"c", part}}, limits),
                absl::StatusCode::kResourceExhausted, "unpacks to more than 10000 bytes");
  EXPECT_TRUE(Unpack(ArchiveKind::kTarGz, {{"a", part}, {"b", part}}, limits).ok());
}

TEST_F(UnpackArchiveTest, RefusesADeclaredTenGigabytesBeforeWriting) {
  const uint64_t ten_gb = uint64_t{10} << 30;
  const std::string tar = TarHeader("ok.bin", 3) + std::string("abc") + std::string(509, '\0') +
                          TarHeader("huge.bin", ten_gb) + std::string(4096, 'h');
  ExpectRefused(UnpackBytes(tar), absl::StatusCode::kResourceExhausted,
                "'huge.bin' is larger than");
  // The same header with an honest size unpacks.
  auto ok = UnpackBytes(TarHeader("ok.bin", 3) + "abc" + std::string(509 + 1024, '\0'));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ReadAll(dest() + "/ok.bin"), "abc");
}

// A small valid zip of two files, to be patched.
std::string TwoFileZip(const testing::TempDir& tmp) {
  const std::string path = tmp.File("two.zip");
  EXPECT_TRUE(WriteArchive(path, ArchiveKind::kZip,
                           {{"model.xml", std::string(500, 'm')}, {"other.bin", "weights"}}));
  return ReadAll(path);
}

TEST_F(UnpackArchiveTest, RefusesAZipWhoseDirectoryLies) {
  const std::string zip = TwoFileZip(tmp_);
  ASSERT_TRUE(UnpackBytes(zip).ok());
  fs::remove_all(dest());
  const size_t cd = zip.find("PK\x01\x02");
  ASSERT_NE(cd, std::string::npos);
  const size_t cd2 = zip.find("PK\x01\x02", cd + 4);
  ASSERT_NE(cd2, std::string::npos);
  // The directory names the first file differently from its local header.
  std::string renamed = zip;
  renamed[cd + 46] = 'e';
  ExpectRefused(UnpackBytes(renamed), absl::StatusCode::kInvalidArgument,
                "has another name in its local header");
  // The second entry points at the first one's local header.
  std::string shared = zip;
  shared.replace(cd2 + 42, 4, std::string(4, '\0'));
  ExpectRefused(UnpackBytes(shared), absl::StatusCode::kInvalidArgument, "zip entry");
  // The directory declares another uncompressed size than the local header.
  std::string resized = zip;
  resized.replace(cd + 24, 4, std::string("\x0a\0\0\0", 4));
  ExpectRefused(UnpackBytes(resized), absl::StatusCode::kInvalidArgument, "damaged");
  // No central directory at all.
  ExpectRefused(UnpackBytes(zip.substr(0, cd)), absl::StatusCode::kInvalidArgument, "");
}

TEST_F(UnpackArchiveTest, RefusesWhatIsNotAnArchive) {
  ExpectRefused(UnpackBytes(ReadAll(testing::Fixture("random.bin"))),
                absl::StatusCode::kInvalidArgument, "");
  ExpectRefused(UnpackBytes(std::string("\x1f\x8b", 2) + "truncated"),
                absl::StatusCode::kInvalidArgument, "");
  EXPECT_EQ(UnpackArchive(tmp_.File("missing.zip"), dest(), {}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(LooksLikeArchiveTest, TellsArchivesFromModels) {
  testing::TempDir tmp;
  for (ArchiveKind kind : {ArchiveKind::kZip, ArchiveKind::kTar, ArchiveKind::kTarGz}) {
    ASSERT_TRUE(WriteArchive(tmp.File("a"), kind, {{"model.xml", "<net/>"}}));
    EXPECT_TRUE(LooksLikeArchive(ReadAll(tmp.File("a"))));
    EXPECT_TRUE(*FileLooksLikeArchive(tmp.File("a")));
  }
  for (const char* model :
       {"tiny_classifier.pt", "tuple_outputs.pt", "tiny_classifier.onnx", "random.bin"}) {
    EXPECT_FALSE(LooksLikeArchive(ReadAll(testing::Fixture(model)))) << model;
    EXPECT_FALSE(*FileLooksLikeArchive(testing::Fixture(model))) << model;
  }
  EXPECT_FALSE(LooksLikeArchive(""));
  EXPECT_FALSE(FileLooksLikeArchive(tmp.File("missing")).ok());
}

}  // namespace
}  // namespace cinfer
