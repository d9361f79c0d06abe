#include "auth/secret_file.h"

#include <sys/stat.h>

#include <filesystem>

#include "common/file_util.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cinfer {

absl::StatusOr<std::string> LoadOrCreateSecret(const std::string& path, size_t bytes) {
  if (!std::filesystem::exists(path)) {
    RETURN_IF_ERROR(WriteFileAtomically(path, RandomHex(bytes) + "\n", 0600));
  }
  ::chmod(path.c_str(), 0600);
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  std::string raw;
  if (!HexDecode(Trim(text), &raw) || raw.size() < bytes) {
    return absl::DataLossError(
        StrCat("secret file ", path, " is not ", bytes * 2, " hex characters"));
  }
  return raw;
}

}  // namespace cinfer
