// Safe unpacking of the archives (.zip, .tar, .tar.gz) admins upload multi-file
// models in, and a read-only file mapping used to look at large uploads.
// Stateless; thread-safe as long as callers use different folders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cinfer {

struct ArchiveLimits {
  size_t max_entries = 64;                          // directory entries included
  uint64_t max_unpacked_bytes = uint64_t{2} << 30;  // all files together
  uint64_t max_entry_bytes = uint64_t{2} << 30;     // any one file
  int max_depth = 4;                                // folders above a file
};

// Unpacks the zip or tar (plain or gzip-compressed) archive at `archive_path`
// into `dest_dir` (created 0700 when missing; it should be empty, and not hold
// the archive) and returns the relative paths of the files written, in archive
// order. Directory entries become folders; every other entry must be a plain
// file, written with mode 0600, O_EXCL and never through a link. Refused,
// leaving nothing of what was written:
// - InvalidArgument: a damaged or unsupported archive (any libarchive error or
//   warning); a zip whose central directory disagrees with its local headers
//   (names, overlapping or shared offsets, entry count); an entry that is a
//   symbolic or hard link, a device, fifo or socket; a name that is absolute,
//   has a ".." component, a backslash or a control character, is longer than
//   255 bytes or lies more than `max_depth` folders deep; a name given twice.
// - ResourceExhausted: more than `max_entries` entries, or a file (declared
//   size, or the bytes actually read) over `max_entry_bytes`, or all files
//   together over `max_unpacked_bytes`. Sizes are checked before writing.
// - NotFound: no file at `archive_path`.
absl::StatusOr<std::vector<std::string>> UnpackArchive(const std::string& archive_path,
                                                       const std::string& dest_dir,
                                                       const ArchiveLimits& limits);

// True when `content` is a zip archive other than a TorchScript module (itself
// a zip, told apart by its central directory, so pass the whole file), a gzip
// stream, or a tar archive ("ustar" at offset 257).
bool LooksLikeArchive(std::string_view content);
// The same for the file at `path`, mapped rather than read.
absl::StatusOr<bool> FileLooksLikeArchive(const std::string& path);

// A read-only mapping of a whole regular file, opened without following a
// symbolic link. Empty files map to an empty view.
class MappedFile {
 public:
  static absl::StatusOr<MappedFile> Open(const std::string& path);
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&&) = delete;
  ~MappedFile();
  std::string_view view() const { return {static_cast<const char*>(data_), size_}; }

 private:
  MappedFile() = default;
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace cinfer
