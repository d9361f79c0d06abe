// Reads a hex-encoded secret from a file, creating it (mode 0600, `bytes`
// random bytes) on first use. Returns the raw bytes.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace cinfer {

absl::StatusOr<std::string> LoadOrCreateSecret(const std::string& path, size_t bytes);

}  // namespace cinfer
