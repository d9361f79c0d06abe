#include "engines/model_format.h"

#include <cstdint>
#include <cstring>

#include "engines/onnx_proto.h"

namespace cinfer {
namespace {

uint32_t Le32(std::string_view s, size_t pos) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[pos + i]);
  return v;
}
uint16_t Le16(std::string_view s, size_t pos) {
  return static_cast<uint16_t>(static_cast<uint8_t>(s[pos]) | static_cast<uint8_t>(s[pos + 1])
                                                                  << 8);
}

}  // namespace

std::string_view ModelFormatName(ModelFormat f) {
  switch (f) {
    case ModelFormat::kOnnx:
      return "onnx";
    case ModelFormat::kTorchScript:
      return "torchscript";
    case ModelFormat::kUnknown:
      return "unknown";
  }
  return "unknown";
}

bool LooksLikeTorchScript(std::string_view s) {
  if (s.size() < 22 || s.substr(0, 4) != std::string_view("PK\x03\x04", 4)) return false;
  // End of central directory: the last record with signature PK\5\6.
  size_t eocd = std::string_view::npos;
  const size_t lowest = s.size() > 22 + 65535 ? s.size() - 22 - 65535 : 0;
  for (size_t pos = s.size() - 22 + 1; pos-- > lowest;) {
    if (Le32(s, pos) == 0x06054b50) {
      eocd = pos;
      break;
    }
  }
  if (eocd == std::string_view::npos) return false;
  uint64_t entries = Le16(s, eocd + 10);
  uint64_t cd_offset = Le32(s, eocd + 16);
  if (cd_offset == 0xffffffff || entries == 0xffff) {
    // Zip64: locate the zip64 EOCD through its locator just before the EOCD.
    if (eocd < 20 || Le32(s, eocd - 20) != 0x07064b50) return false;
    uint64_t z64 = 0;
    std::memcpy(&z64, s.data() + eocd - 20 + 8, 8);
    if (z64 > s.size() || s.size() - z64 < 56 || Le32(s, z64) != 0x06064b50) return false;
    std::memcpy(&entries, s.data() + z64 + 32, 8);
    std::memcpy(&cd_offset, s.data() + z64 + 48, 8);
  }
  bool has_data = false, has_code = false;
  size_t pos = cd_offset;
  for (uint64_t i = 0; i < entries && i < 1'000'000; ++i) {
    // Offsets come from the file: compare without sums that could wrap around.
    if (pos > s.size() || s.size() - pos < 46 || Le32(s, pos) != 0x02014b50) return false;
    const size_t name_len = Le16(s, pos + 28), extra = Le16(s, pos + 30),
                 comment = Le16(s, pos + 32);
    if (s.size() - pos - 46 < name_len) return false;
    std::string_view name = s.substr(pos + 46, name_len);
    has_data |= name == "data.pkl" || name.ends_with("/data.pkl");
    has_code |= name.find("/code/") != std::string_view::npos || name.ends_with("constants.pkl");
    pos += 46 + name_len + extra + comment;
  }
  return has_data && has_code;
}

ModelFormat SniffModelFormat(std::string_view content) {
  if (LooksLikeTorchScript(content)) return ModelFormat::kTorchScript;
  if (onnx::LooksLikeOnnx(content)) return ModelFormat::kOnnx;
  return ModelFormat::kUnknown;
}

}  // namespace cinfer
