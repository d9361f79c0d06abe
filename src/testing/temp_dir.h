// TempDir: a fresh directory under the system temp dir, removed on
// destruction. For tests only.
#pragma once

#include <filesystem>
#include <string>

#include "common/random.h"

namespace cinfer::testing {

class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("cinfer-test-" + RandomHex(6))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path() const { return path_.string(); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace cinfer::testing
