#include "http/multipart.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/errors.h"
#include "common/random.h"
#include "common/strings.h"
#include "testing/temp_dir.h"

namespace cinfer::http {
namespace {

constexpr char kBoundary[] = "----cinferBoundaryX7MA4YWxkTrZu0gW";

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr), 1);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), size));
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Binary file content full of delimiter lookalikes that must not end the part.
std::string TrickyFileData() {
  const std::string b = kBoundary;
  std::string data;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 256; ++i) data.push_back(static_cast<char>(i));
  }
  data += "|\r\n--|";                                     // Dashes after CRLF.
  data += "\r\n--" + b.substr(0, b.size() - 1) + "|";     // All but the last boundary char.
  data += "x--" + b + "\r\n|";                            // Boundary not preceded by CRLF.
  data += "\n--" + b + "|";                               // LF only.
  data += "\r\r\n-" + b + "|";                            // One dash only.
  data += std::string("\0\r\n--\0", 6) + b.substr(0, 5);  // NULs around dashes.
  data += "\r\n-";                                        // Delimiter prefix at the very end...
  data += "\r";                                           // ...and a lone CR before it.
  return data;
}

struct Part {
  std::string headers;
  std::string content;
};

std::string BuildBody(const std::vector<Part>& parts, std::string_view boundary = kBoundary) {
  std::string body;
  for (const Part& p : parts) {
    body += StrCat("--", boundary, "\r\n", p.headers, "\r\n", p.content, "\r\n");
  }
  body += StrCat("--", boundary, "--\r\n");
  return body;
}

std::string MainBody() {
  return BuildBody({
      {"Content-Disposition: form-data; name=\"model_name\"\r\n", "resnet50"},
      {"content-disposition: form-data; name=\"description\"\r\n"
       "Content-Type: text/plain; charset=utf-8\r\n",
       "line one\r\nline two -- not a boundary\r\n"},
      {"Content-Disposition: form-data; name=\"model\"; filename=\"model.onnx\"\r\n"
       "Content-Type: application/octet-stream\r\n",
       TrickyFileData()},
  });
}

class MultipartTest : public ::testing::Test {
 protected:
  MultipartTest() { std::filesystem::create_directories(spool_dir()); }

  std::string spool_dir() const { return tmp_.File("spool"); }
  std::string body_path() const { return tmp_.File("body"); }

  absl::StatusOr<std::vector<MultipartPart>> Parse(std::string_view body,
                                                   MultipartLimits limits = {}) {
    std::ofstream(body_path(), std::ios::binary | std::ios::trunc)
        .write(body.data(), static_cast<std::streamsize>(body.size()));
    return ParseMultipartFile(body_path(), kBoundary, spool_dir(), limits);
  }

  size_t SpoolCount() const {
    return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(spool_dir()),
                                             std::filesystem::directory_iterator()));
  }

  testing::TempDir tmp_;
};

// --- MultipartBoundary --------------------------------------------------------

TEST(MultipartBoundaryTest, Unquoted) {
  auto b = MultipartBoundary("multipart/form-data; boundary=----WebKitFormBoundaryAbC123");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*b, "----WebKitFormBoundaryAbC123");
}

TEST(MultipartBoundaryTest, QuotedWithOtherParameters) {
  auto b = MultipartBoundary("multipart/form-data; charset=utf-8; boundary=\"a;b=c d\"; x=y");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*b, "a;b=c d");
}

TEST(MultipartBoundaryTest, TypeAndParameterNameAreCaseInsensitive) {
  auto b = MultipartBoundary("  Multipart/Form-Data ;BOUNDARY=xyz");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*b, "xyz");
}

TEST(MultipartBoundaryTest, RejectsMissingOrInvalidBoundary) {
  for (const char* ct : {"multipart/form-data", "multipart/form-data;", "multipart/form-data; x=1",
                         "multipart/form-data; boundary=", "multipart/form-data; boundary=\"\"",
                         "multipart/form-data; boundary=\"unterminated",
                         "multipart/form-data; boundary=a; boundary=b",
                         "multipart/form-data; boundary=\"bad\r\nline\"",
                         "multipart/form-data; boundary=\"trailing space \""}) {
    auto b = MultipartBoundary(ct);
    ASSERT_FALSE(b.ok()) << ct;
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument) << ct;
    EXPECT_EQ(ErrorCodeOf(b.status()), "BAD_REQUEST") << ct;
  }
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'a')).ok());
  EXPECT_TRUE(MultipartBoundary("multipart/form-data; boundary=" + std::string(70, 'a')).ok());
}

TEST(MultipartBoundaryTest, RejectsOtherTypes) {
  for (const char* ct : {"application/json", "multipart/mixed; boundary=abc",
                         "multipart/form-datax; boundary=abc", "", "text/plain; boundary=abc"}) {
    auto b = MultipartBoundary(ct);
    ASSERT_FALSE(b.ok()) << ct;
    EXPECT_EQ(ErrorCodeOf(b.status()), "BAD_REQUEST") << ct;
  }
}

// --- ParseMultipartFile ------------------------------------------------------

TEST_F(MultipartTest, FieldsAndBinaryFileGiveSameResultAtAnyChunkSize) {
  const std::string body = MainBody();
  const std::string file_data = TrickyFileData();
  const std::string expected_sha = Sha256Hex(file_data);

  std::vector<size_t> chunk_sizes = {1, 7, 64, 65536};
  for (size_t c = 2; c <= 2 * sizeof(kBoundary) + 8; ++c) chunk_sizes.push_back(c);
  for (size_t chunk : chunk_sizes) {
    SCOPED_TRACE(StrCat("chunk_size=", chunk));
    MultipartLimits limits;
    limits.chunk_size = chunk;
    auto parts = Parse(body, limits);
    ASSERT_TRUE(parts.ok()) << parts.status();
    ASSERT_EQ(parts->size(), 3u);

    const MultipartPart& name = (*parts)[0];
    EXPECT_EQ(name.name, "model_name");
    EXPECT_FALSE(name.filename.has_value());
    EXPECT_EQ(name.content_type, "");
    EXPECT_EQ(name.value, "resnet50");
    EXPECT_EQ(name.file_path, "");

    const MultipartPart& desc = (*parts)[1];
    EXPECT_EQ(desc.name, "description");
    EXPECT_EQ(desc.content_type, "text/plain; charset=utf-8");
    EXPECT_EQ(desc.value, "line one\r\nline two -- not a boundary\r\n");

    const MultipartPart& file = (*parts)[2];
    EXPECT_EQ(file.name, "model");
    EXPECT_EQ(file.filename, "model.onnx");
    EXPECT_EQ(file.content_type, "application/octet-stream");
    EXPECT_EQ(file.value, "");
    EXPECT_EQ(file.size, file_data.size());
    EXPECT_EQ(file.sha256_hex, expected_sha);
    EXPECT_EQ(ReadAll(file.file_path), file_data);
    EXPECT_EQ(std::filesystem::path(file.file_path).parent_path(), spool_dir());
    struct stat st;
    ASSERT_EQ(::stat(file.file_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    std::filesystem::remove(file.file_path);
    EXPECT_EQ(SpoolCount(), 0u);
  }
}

TEST_F(MultipartTest, EmptyFilePart) {
  auto parts = Parse(BuildBody({
      {"Content-Disposition: form-data; name=\"f\"; filename=\"empty.bin\"\r\n", ""},
      {"Content-Disposition: form-data; name=\"g\"\r\n", ""},
  }));
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].size, 0u);
  EXPECT_EQ((*parts)[0].sha256_hex,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ReadAll((*parts)[0].file_path), "");
  EXPECT_FALSE((*parts)[1].filename.has_value());
  EXPECT_EQ((*parts)[1].value, "");
}

TEST_F(MultipartTest, TruncatedBodyIsBadRequestAndLeavesNoFiles) {
  const std::string body = MainBody();
  const size_t close_end = body.rfind("--\r\n") + 2;  // Just after the closing "--".
  std::ofstream(body_path(), std::ios::binary)
      .write(body.data(), static_cast<std::streamsize>(close_end));
  for (size_t len = close_end; len-- > 0;) {  // Longest cut first, shrinking the file each time.
    std::filesystem::resize_file(body_path(), len);
    for (size_t chunk : {size_t{1}, size_t{65536}}) {
      MultipartLimits limits;
      limits.chunk_size = chunk;
      auto parts = ParseMultipartFile(body_path(), kBoundary, spool_dir(), limits);
      ASSERT_FALSE(parts.ok()) << "len=" << len << " chunk=" << chunk;
      EXPECT_EQ(parts.status().code(), absl::StatusCode::kInvalidArgument) << len;
      EXPECT_EQ(ErrorCodeOf(parts.status()), "BAD_REQUEST") << len;
      ASSERT_EQ(SpoolCount(), 0u) << "len=" << len << " chunk=" << chunk;
    }
  }
  // The close delimiter itself is enough; the final CRLF is epilogue.
  auto parts = Parse(std::string_view(body).substr(0, close_end));
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(parts->size(), 3u);
}

TEST_F(MultipartTest, PreambleAndEpilogueAreIgnored) {
  const std::string b = kBoundary;
  const std::string body = "This is the preamble. x--" + b + " is not a delimiter here.\r\n" +
                           BuildBody({{"Content-Disposition: form-data; name=\"a\"\r\n", "1"}}) +
                           "epilogue\r\n--" + b + "\r\nContent-Disposition: garbage\r\n\r\n";
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{65536}}) {
    MultipartLimits limits;
    limits.chunk_size = chunk;
    auto parts = Parse(body, limits);
    ASSERT_TRUE(parts.ok()) << parts.status();
    ASSERT_EQ(parts->size(), 1u);
    EXPECT_EQ((*parts)[0].name, "a");
    EXPECT_EQ((*parts)[0].value, "1");
  }
}

TEST_F(MultipartTest, TransportPaddingAfterBoundaryIsAllowed) {
  const std::string b = kBoundary;
  auto parts =
      Parse("--" + b + " \t\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--" + b + "--");
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].value, "v");
}

TEST_F(MultipartTest, ZeroPartsIsValid) {
  auto parts = Parse(StrCat("--", kBoundary, "--\r\n"));
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_TRUE(parts->empty());
}

TEST_F(MultipartTest, WrongOrMissingBoundaryIsBadRequest) {
  const std::string other =
      BuildBody({{"Content-Disposition: form-data; name=a\r\n", "v"}}, "SomeOtherBoundary");
  for (const std::string& body : {other, std::string(), std::string("just text\r\n")}) {
    auto parts = Parse(body);
    ASSERT_FALSE(parts.ok());
    EXPECT_EQ(ErrorCodeOf(parts.status()), "BAD_REQUEST");
  }
  // A delimiter followed by something other than "--", padding or CRLF.
  auto parts = Parse(StrCat("--", kBoundary, "X\r\n\r\n"));
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(ErrorCodeOf(parts.status()), "BAD_REQUEST");
  // An invalid boundary argument.
  auto bad = ParseMultipartFile(body_path(), "", spool_dir(), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(ErrorCodeOf(bad.status()), "BAD_REQUEST");
}

TEST_F(MultipartTest, PartWithoutNameIsBadRequest) {
  for (const char* headers : {
           "",                                                        // No headers at all.
           "Content-Type: text/plain\r\n",                            // No Content-Disposition.
           "Content-Disposition: form-data\r\n",                      // No name.
           "Content-Disposition: form-data; filename=\"a.txt\"\r\n",  // No name.
           "Content-Disposition: form-data; name=\"\"\r\n",           // Empty name.
           "Content-Disposition: attachment; name=\"a\"\r\n",         // Not form-data.
           "Content-Disposition: form-data; name=\"a\r\n",            // Unterminated quote.
           "Content-Disposition: form-data; name=a; name=b\r\n",      // Ambiguous.
           "Content-Disposition form-data; name=a\r\n",               // No colon.
       }) {
    auto parts = Parse(BuildBody({
        {"Content-Disposition: form-data; name=\"ok\"; filename=\"x\"\r\n", "data"},
        {headers, "v"},
    }));
    ASSERT_FALSE(parts.ok()) << headers;
    EXPECT_EQ(ErrorCodeOf(parts.status()), "BAD_REQUEST") << headers;
    EXPECT_EQ(SpoolCount(), 0u) << headers;
  }
}

TEST_F(MultipartTest, StrayLineBreakOrNulInPartHeaderIsBadRequest) {
  for (std::string headers : {std::string("Content-Disposition: form-data; name=a\nX: y\r\n"),
                              std::string("Content-Disposition: form-data; name=a\rX: y\r\n"),
                              std::string("Content-Disposition: form-data; name=a\0b\r\n", 42)}) {
    auto parts = Parse(BuildBody({{headers, "v"}}));
    ASSERT_FALSE(parts.ok());
    EXPECT_EQ(ErrorCodeOf(parts.status()), "BAD_REQUEST");
  }
}

TEST_F(MultipartTest, ContentDispositionParameterForms) {
  auto parts = Parse(BuildBody({
      {"CONTENT-DISPOSITION: Form-Data; NAME=plain; FileName = \"a \\\"q\\\" \\\\b;c.txt\"\r\n"
       "CONTENT-TYPE:text/plain\r\n",
       "x"},
      {"Content-Disposition: form-data; name=\"ext\"; filename*=UTF-8''%E2%82%AC%20rates.txt\r\n",
       "y"},
      {"Content-Disposition: form-data; name=\"both\"; filename*=UTF-8''ignored.txt; "
       "filename=\"used.txt\"\r\n",
       "z"},
      {"X-Other: 1\r\nContent-Disposition: form-data;\r\n name=\"folded\"\r\n", "w"},
  }));
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 4u);
  EXPECT_EQ((*parts)[0].name, "plain");
  EXPECT_EQ((*parts)[0].filename, "a \"q\" \\b;c.txt");
  EXPECT_EQ((*parts)[0].content_type, "text/plain");
  EXPECT_EQ((*parts)[1].filename, "\xE2\x82\xAC rates.txt");
  EXPECT_EQ((*parts)[2].filename, "used.txt");
  EXPECT_EQ((*parts)[3].name, "folded");
  EXPECT_EQ((*parts)[3].value, "w");

  auto bad = Parse(BuildBody({
      {"Content-Disposition: form-data; name=\"ext\"; filename*=UTF-8''%zz\r\n", "y"},
  }));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(ErrorCodeOf(bad.status()), "BAD_REQUEST");
}

TEST_F(MultipartTest, HeaderBlockTooLongIsBadRequest) {
  MultipartLimits limits;
  limits.max_header_bytes = 100;
  const std::string disposition = "Content-Disposition: form-data; name=a\r\n";
  const std::string filler = "X-Filler: " + std::string(100, 'f') + "\r\n";
  for (size_t chunk : {size_t{1}, size_t{65536}}) {
    limits.chunk_size = chunk;
    auto parts = Parse(BuildBody({{disposition + filler, "v"}}), limits);
    ASSERT_FALSE(parts.ok());
    EXPECT_EQ(ErrorCodeOf(parts.status()), "BAD_REQUEST");
    // A header block that never ends.
    parts = Parse(StrCat("--", kBoundary, "\r\n", std::string(10000, 'h')), limits);
    ASSERT_FALSE(parts.ok());
    EXPECT_EQ(ErrorCodeOf(parts.status()), "BAD_REQUEST");
  }
  // The limit counts the header text without its final CRLF: 40 + 5 + 55 = 100 bytes fit.
  auto headers_with_filler = [&](size_t n) {
    return disposition + "X-F: " + std::string(n, 'f') + "\r\n";
  };
  ASSERT_EQ(headers_with_filler(55).size(), 102u);
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{65536}}) {
    limits.chunk_size = chunk;
    EXPECT_TRUE(Parse(BuildBody({{headers_with_filler(55), "v"}}), limits).ok());
    auto parts = Parse(BuildBody({{headers_with_filler(56), "v"}}), limits);
    ASSERT_FALSE(parts.ok());
    EXPECT_EQ(ErrorCodeOf(parts.status()), "BAD_REQUEST");
  }
}

TEST_F(MultipartTest, TooManyPartsIsBadRequestAndLeavesNoFiles) {
  MultipartLimits limits;
  limits.max_parts = 2;
  const Part file = {"Content-Disposition: form-data; name=f; filename=f.bin\r\n", "bytes"};
  auto parts = Parse(BuildBody({file, file}), limits);
  ASSERT_TRUE(parts.ok()) << parts.status();
  for (const auto& p : *parts) std::filesystem::remove(p.file_path);

  parts = Parse(BuildBody({file, file, file}), limits);
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorCodeOf(parts.status()), "BAD_REQUEST");
  EXPECT_EQ(SpoolCount(), 0u);
}

TEST_F(MultipartTest, FieldOverLimitIsPayloadTooLarge) {
  MultipartLimits limits;
  limits.max_field_bytes = 10;
  const Part file = {"Content-Disposition: form-data; name=f; filename=f.bin\r\n", "file bytes"};
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{65536}}) {
    limits.chunk_size = chunk;
    auto ok =
        Parse(BuildBody({{"Content-Disposition: form-data; name=a\r\n", "0123456789"}}), limits);
    ASSERT_TRUE(ok.ok()) << ok.status();
    auto parts = Parse(
        BuildBody({file, {"Content-Disposition: form-data; name=a\r\n", "0123456789X"}}), limits);
    ASSERT_FALSE(parts.ok());
    EXPECT_EQ(parts.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(ErrorCodeOf(parts.status()), "PAYLOAD_TOO_LARGE");
    EXPECT_EQ(SpoolCount(), 0u);
  }
}

TEST_F(MultipartTest, FileOverLimitIsPayloadTooLarge) {
  MultipartLimits limits;
  limits.max_file_bytes = 1000;
  const std::string header = "Content-Disposition: form-data; name=f; filename=f.bin\r\n";
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{65536}}) {
    limits.chunk_size = chunk;
    auto ok = Parse(BuildBody({{header, std::string(1000, 'a')}}), limits);
    ASSERT_TRUE(ok.ok()) << ok.status();
    EXPECT_EQ((*ok)[0].size, 1000u);
    std::filesystem::remove((*ok)[0].file_path);

    auto parts = Parse(BuildBody({{header, "small"}, {header, std::string(1001, 'a')}}), limits);
    ASSERT_FALSE(parts.ok());
    EXPECT_EQ(ErrorCodeOf(parts.status()), "PAYLOAD_TOO_LARGE");
    EXPECT_EQ(SpoolCount(), 0u);
  }
}

TEST_F(MultipartTest, TraversalFilenameIsKeptVerbatimButFileStaysInSpoolDir) {
  auto parts = Parse(BuildBody({
      {"Content-Disposition: form-data; name=\"f\"; filename=\"../../etc/passwd\"\r\n", "root"},
  }));
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 1u);
  const MultipartPart& p = (*parts)[0];
  EXPECT_EQ(p.filename, "../../etc/passwd");
  EXPECT_EQ(std::filesystem::path(p.file_path).parent_path(), spool_dir());
  EXPECT_EQ(p.file_path.find(".."), std::string::npos);
  EXPECT_EQ(ReadAll(p.file_path), "root");
  EXPECT_EQ(SpoolCount(), 1u);
}

TEST_F(MultipartTest, MissingBodyOrSpoolDirIsInternal) {
  auto parts = ParseMultipartFile(tmp_.File("nope"), kBoundary, spool_dir(), {});
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.status().code(), absl::StatusCode::kInternal);

  const std::string body =
      BuildBody({{"Content-Disposition: form-data; name=f; filename=f.bin\r\n", "x"}});
  std::ofstream(body_path(), std::ios::binary)
      .write(body.data(), static_cast<std::streamsize>(body.size()));
  parts = ParseMultipartFile(body_path(), kBoundary, tmp_.File("no-such-dir"), {});
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace cinfer::http

namespace cinfer::http {
namespace {

TEST(MultipartDuplicatesTest, RepeatedNamesAreRefusedUnlessRepeatable) {
  auto part = [](std::string name) {
    MultipartPart p;
    p.name = std::move(name);
    return p;
  };
  EXPECT_TRUE(RejectDuplicateParts({part("file"), part("name"), part("config")}).ok());
  for (const char* twice : {"file", "name"}) {
    absl::Status st = RejectDuplicateParts({part("file"), part("name"), part(twice)});
    ASSERT_FALSE(st.ok()) << twice;
    EXPECT_EQ(ErrorCodeOf(st), "BAD_REQUEST");
    EXPECT_NE(std::string(st.message()).find(std::string("'") + twice + "'"), std::string::npos);
  }
  EXPECT_TRUE(
      RejectDuplicateParts({part("images[]"), part("images[]"), part("top_k")}, {"images[]"}).ok());
  EXPECT_FALSE(
      RejectDuplicateParts({part("images[]"), part("top_k"), part("top_k")}, {"images[]"}).ok());
}

// --- ParseMultipart (in memory) ------------------------------------------------

// The memory parser follows the same grammar and limits as the file parser:
// the same parts (file bytes in `value`), or the same error, for every body.
TEST_F(MultipartTest, MemoryParserAgreesWithTheFileParser) {
  const std::string main = MainBody();
  std::vector<std::string> bodies = {
      main,
      main.substr(0, main.size() - 8),  // truncated: no closing boundary
      "no boundary at all",
      BuildBody({{"Content-Disposition: form-data; name=\"a\"\r\n", "x"},
                 {"Content-Disposition: form-data; name=\"b\"; filename=\"b\"\r\n", ""}}),
      BuildBody({{"Content-Type: text/plain\r\n", "no disposition"}}),
  };
  MultipartLimits limits;
  limits.max_file_bytes = 100;  // MainBody's file part is larger: PAYLOAD_TOO_LARGE
  for (const MultipartLimits& l : {MultipartLimits{}, limits}) {
    for (const std::string& body : bodies) {
      auto from_file = Parse(body, l);
      auto from_memory = ParseMultipart(body, kBoundary, l);
      ASSERT_EQ(from_file.ok(), from_memory.ok()) << body.substr(0, 80);
      if (!from_file.ok()) {
        EXPECT_EQ(ErrorCodeOf(from_file.status()), ErrorCodeOf(from_memory.status()));
        continue;
      }
      ASSERT_EQ(from_file->size(), from_memory->size());
      for (size_t i = 0; i < from_file->size(); ++i) {
        const MultipartPart& f = (*from_file)[i];
        const MultipartPart& m = (*from_memory)[i];
        EXPECT_EQ(f.name, m.name);
        EXPECT_EQ(f.filename, m.filename);
        EXPECT_EQ(f.content_type, m.content_type);
        EXPECT_EQ(f.size, m.size);
        EXPECT_TRUE(m.file_path.empty());
        EXPECT_EQ(f.file_path.empty() ? f.value : ReadAll(f.file_path), m.value);
        if (!f.file_path.empty()) std::filesystem::remove(f.file_path);
      }
    }
  }
}

}  // namespace
}  // namespace cinfer::http
