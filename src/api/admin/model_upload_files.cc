#include "api/admin/model_upload_files.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/errors.h"
#include "common/file_util.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "models/model_bundle.h"

namespace cinfer::api {
namespace fs = std::filesystem;
namespace {

// A client's file name reduced to a safe base name, or "" when nothing usable is left.
std::string SafeBaseName(const std::string& raw) {
  std::string name =
      raw.substr(raw.find_last_of("/\\") == std::string::npos ? 0 : raw.find_last_of("/\\") + 1);
  if (name.empty() || name == "." || name == ".." || name.size() > 255) return "";
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return "";
  }
  return name;
}

absl::StatusOr<std::string> FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return absl::InternalError("cannot read the model file");
  return Sha256Hex(content);
}

uint64_t FolderBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

absl::Status MoveParts(const std::vector<const http::MultipartPart*>& files,
                       const std::string& dir) {
  for (const http::MultipartPart* p : files) {
    const std::string name = SafeBaseName(p->filename.value_or(""));
    if (name.empty()) {
      return ValidationError(
          "each file part of a multi-file model upload needs a plain file name (e.g. "
          "model.xml and model.bin)");
    }
    const std::string target = StrCat(dir, "/", name);
    std::error_code ec;
    if (fs::exists(target, ec)) {
      return ValidationError(StrCat("two file parts are named '", name, "'"));
    }
    if (std::rename(p->file_path.c_str(), target.c_str()) != 0) {
      return absl::InternalError("cannot stage the uploaded files");
    }
  }
  return absl::OkStatus();
}

}  // namespace

StagedFiles::~StagedFiles() {
  if (dir_.empty()) return;
  std::error_code ec;
  fs::remove_all(dir_, ec);  // gone already when the store took it
}

absl::Status StagedFiles::Stage(const std::vector<const http::MultipartPart*>& files,
                                const std::string& spool_dir, uint64_t max_bytes, ModelUpload* up) {
  const http::MultipartPart& first = *files.front();
  bool archive = false;
  if (files.size() == 1) {
    ASSIGN_OR_RETURN(archive, FileLooksLikeArchive(first.file_path));
    ASSIGN_OR_RETURN(MappedFile content, MappedFile::Open(first.file_path));
    const ModelFormat format = SniffModelFormat(content.view());
    // A lone IR or Paddle program is staged too: the bundle names its missing weights.
    if (!archive && format != ModelFormat::kOpenVinoIr && format != ModelFormat::kPaddle) {
      up->file_path = first.file_path;
      up->original_filename = first.filename.value_or("");
      up->size_bytes = first.size;
      up->sha256 = first.sha256_hex;
      return absl::OkStatus();
    }
  }
  dir_ = StrCat(spool_dir, "/bundle-", RandomHex(8));
  RETURN_IF_ERROR(EnsureDirectory(dir_, 0700));
  if (archive) {
    ArchiveLimits limits;
    limits.max_unpacked_bytes = max_bytes;
    limits.max_entry_bytes = max_bytes;
    RETURN_IF_ERROR(UnpackArchive(first.file_path, dir_, limits).status());
  } else {
    RETURN_IF_ERROR(MoveParts(files, dir_));
  }
  ASSIGN_OR_RETURN(ModelBundle bundle, ArrangeModelFiles(dir_));
  up->file_path = bundle.primary;
  up->bundle_dir = dir_;
  up->size_bytes = FolderBytes(dir_);
  if (up->size_bytes > max_bytes) {
    return absl::ResourceExhaustedError(StrCat(
        "the model's files are larger than models.max_file_size_mb (", max_bytes >> 20, " MB)"));
  }
  std::vector<std::string> names;
  for (const http::MultipartPart* p : files) names.push_back(p->filename.value_or(""));
  up->original_filename = Join(names, ", ");
  if (archive) {
    up->sha256 = first.sha256_hex;  // what the client sent
  } else {
    ASSIGN_OR_RETURN(up->sha256, FileSha256(bundle.primary));
  }
  return absl::OkStatus();
}

}  // namespace cinfer::api
