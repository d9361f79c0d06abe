// Streaming multipart/form-data (RFC 7578 / RFC 2046) parsing of a request
// body that has already been saved to a file. Field parts come back in memory,
// file parts are spooled to fresh files while their SHA-256 is computed.
//
// Thread-safety: the functions keep no shared state; concurrent calls are safe
// as long as they do not share a body file. Ownership: on success the caller
// owns every file named by a returned MultipartPart::file_path (and must
// delete it); on error no file created by the call is left behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cinfer::http {

// Extracts the boundary parameter of a multipart/form-data Content-Type value
// (quoted or not). InvalidArgument (BAD_REQUEST) when the type is not multipart/form-data or has no
// boundary (or the boundary is not 1-70 printable ASCII characters, RFC 2046).
absl::StatusOr<std::string> MultipartBoundary(std::string_view content_type);

// One part of a multipart/form-data body. Plain data.
struct MultipartPart {
  std::string name;  // from Content-Disposition: form-data; name="..."
  std::optional<std::string>
      filename;              // present for file parts (raw, untrusted: never use as a path)
  std::string content_type;  // the part's Content-Type, "" if absent
  // Field parts (no filename): the value, in memory.
  std::string value;
  // File parts: where the part's bytes were written, and how many.
  std::string file_path;
  uint64_t size = 0;
  std::string sha256_hex;  // lowercase hex SHA-256 of the part's bytes (file parts)
};

// Bounds on what one ParseMultipartFile call accepts.
struct MultipartLimits {
  size_t max_parts = 16;
  size_t max_field_bytes = 1 << 20;      // per non-file part
  uint64_t max_file_bytes = UINT64_MAX;  // per file part
  size_t max_header_bytes = 8192;        // per part header block
  // How many bytes are read from the body file at a time (0 is taken as 1). Memory use is about
  // chunk_size + max_header_bytes + the fields' values, whatever the body size.
  size_t chunk_size = 64 * 1024;
};

// Parses the multipart body stored in `body_path`, streaming it in fixed-size chunks (memory use
// independent of the body size: never read the whole file, never mmap it). Each file part is
// written to a new file in `spool_dir` (created with mode 0600, random name) while its SHA-256 is
// computed. On any error every file this call created is removed. Malformed input (missing or
// wrong boundary, truncated body — no closing boundary, part without Content-Disposition name,
// header block too long, too many parts) → BAD_REQUEST; a field or file over its limit →
// PAYLOAD_TOO_LARGE.
absl::StatusOr<std::vector<MultipartPart>> ParseMultipartFile(const std::string& body_path,
                                                              std::string_view boundary,
                                                              const std::string& spool_dir,
                                                              const MultipartLimits& limits);

// The same grammar and limits for a body already in memory (inference
// requests): file parts' bytes come back in `value` (no file_path, no
// sha256_hex); nothing touches the disk.
absl::StatusOr<std::vector<MultipartPart>> ParseMultipart(std::string_view body,
                                                          std::string_view boundary,
                                                          const MultipartLimits& limits);

// BAD_REQUEST naming the first part name that appears more than once, unless
// the name is in `repeatable` (e.g. a batch's "images[]"). Two "file" or two
// "name" parts would otherwise let the last one silently win.
absl::Status RejectDuplicateParts(const std::vector<MultipartPart>& parts,
                                  const std::vector<std::string_view>& repeatable = {});

}  // namespace cinfer::http
