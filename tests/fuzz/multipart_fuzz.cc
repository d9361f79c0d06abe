// Fuzzes the streaming multipart/form-data parser (http/multipart.h).
// The input is the request body, parsed twice:
//  1. with the fixed boundary "fuzz-boundary" (the seeds use it);
//  2. with a fuzzed boundary: the input's first line is a Content-Type parameter list
//     ("multipart/form-data; <line>") checked by MultipartBoundary, the rest is the body.
// Small chunk sizes (picked from the input size) move the chunk edges through delimiters.
// Checked: the promised cleanup (no spool file survives an error) and the file parts'
// sizes on disk.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_check.h"
#include "http/multipart.h"
#include "testing/temp_dir.h"

namespace {

using cinfer::fuzz::AsText;

struct Dirs {
  cinfer::testing::TempDir root;
  std::string body = root.File("body");
  std::string spool = root.File("spool");
  Dirs() { std::filesystem::create_directory(spool); }
};

bool SpoolIsEmpty(const Dirs& dirs) { return std::filesystem::is_empty(dirs.spool); }

void Parse(const Dirs& dirs, std::string_view body, std::string_view boundary, size_t chunk) {
  {
    std::ofstream out(dirs.body, std::ios::binary | std::ios::trunc);
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
  }
  cinfer::http::MultipartLimits limits;
  limits.max_parts = 8;
  limits.max_field_bytes = 256;
  limits.max_file_bytes = 4096;
  limits.max_header_bytes = 512;
  limits.chunk_size = chunk;
  auto parts = cinfer::http::ParseMultipartFile(dirs.body, boundary, dirs.spool, limits);
  if (!parts.ok()) {
    FUZZ_CHECK(SpoolIsEmpty(dirs));
    return;
  }
  FUZZ_CHECK(parts->size() <= limits.max_parts);
  for (const auto& part : *parts) {
    FUZZ_CHECK(!part.name.empty());
    if (!part.filename.has_value()) {
      FUZZ_CHECK(part.value.size() <= limits.max_field_bytes);
      continue;
    }
    struct stat st {};
    FUZZ_CHECK(::stat(part.file_path.c_str(), &st) == 0);
    FUZZ_CHECK(static_cast<uint64_t>(st.st_size) == part.size);
    FUZZ_CHECK(part.size <= limits.max_file_bytes);
    FUZZ_CHECK(part.sha256_hex.size() == 64);
    ::unlink(part.file_path.c_str());
  }
  FUZZ_CHECK(SpoolIsEmpty(dirs));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Dirs dirs;
  const std::string_view input = AsText(data, size);
  const size_t chunk = 1 + size % 23;
  Parse(dirs, input, "fuzz-boundary", chunk);

  std::string_view body = input;
  std::string_view line;
  if (!cinfer::fuzz::SplitFirst(body, '\n', &line)) return 0;
  const std::string content_type = "multipart/form-data; " + std::string(line);
  auto boundary = cinfer::http::MultipartBoundary(content_type);
  if (!boundary.ok()) return 0;
  FUZZ_CHECK(!boundary->empty() && boundary->size() <= 70);
  Parse(dirs, body, *boundary, chunk);
  Parse(dirs, body, *boundary, 64 * 1024);
  return 0;
}
