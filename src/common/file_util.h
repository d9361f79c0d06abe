// Small file helpers with explicit permissions, returning Status.
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cinfer {

absl::StatusOr<std::string> ReadFileToString(const std::string& path);
// Writes to a temporary file in the same directory, fsyncs, sets `mode`, and
// renames over `path`, so readers never see a partial file.
absl::Status WriteFileAtomically(const std::string& path, std::string_view content, mode_t mode);
absl::Status EnsureDirectory(const std::string& path, mode_t mode);

}  // namespace cinfer
