#include "engines/model_format.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace cinfer {
namespace {

std::string Le(uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}

// A zip whose end records are all that is there: the zip64 locator points at `z64_offset`.
std::string Zip64(uint64_t z64_offset, std::string before = "") {
  std::string s = std::string("PK\x03\x04", 4) + std::string(26, '\0') + before;
  s += Le(0x07064b50, 4) + Le(0, 4) + Le(z64_offset, 8) + Le(1, 4);  // zip64 EOCD locator
  s += Le(0x06054b50, 4) + Le(0, 4) + Le(0xffff, 2) + Le(0xffff, 2) + Le(0xffffffff, 4) +
       Le(0xffffffff, 4) + Le(0, 2);
  return s;
}

// Found by fuzzing (tests/fuzz/corpus/model_format/crash-*): offsets near 2^64 wrapped the
// bounds checks around and were read.
TEST(ModelFormatTest, Zip64OffsetsPastTheEndAreNotRead) {
  EXPECT_FALSE(LooksLikeTorchScript(Zip64(UINT64_MAX - 8)));
  EXPECT_FALSE(LooksLikeTorchScript(Zip64(UINT64_MAX - 60)));
  // A valid zip64 end record whose central directory offset is near 2^64.
  std::string record = Le(0x06064b50, 4) + Le(44, 8) + Le(45, 2) + Le(45, 2) + Le(0, 8) + Le(1, 8) +
                       Le(1, 8) + Le(0, 8) + Le(UINT64_MAX - 20, 8);
  EXPECT_FALSE(LooksLikeTorchScript(Zip64(30, record)));
  EXPECT_EQ(SniffModelFormat(Zip64(30, record)), ModelFormat::kUnknown);
}

}  // namespace
}  // namespace cinfer
