#include "engines/model_format.h"

#include <algorithm>
#include <cctype>
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

uint64_t Le64(std::string_view s, size_t pos) {
  return Le32(s, pos) | static_cast<uint64_t>(Le32(s, pos + 4)) << 32;
}

// The zip64 extended-information field (id 1) of a central directory record
// holds, in this order, the sizes and offset that do not fit 32 bits.
void ReadZip64Extra(std::string_view extra, uint32_t size32, ZipDirectory::Entry* e) {
  for (size_t pos = 0; extra.size() - pos >= 4;) {
    const size_t id = Le16(extra, pos), len = Le16(extra, pos + 2);
    if (extra.size() - pos - 4 < len) return;
    if (id == 1) {
      const std::string_view f = extra.substr(pos + 4, len);
      size_t at = 0;
      for (uint64_t* v : {static_cast<uint64_t*>(nullptr), &e->compressed_size, &e->local_offset}) {
        const bool wide = v == nullptr ? size32 == 0xffffffff : *v == 0xffffffff;
        if (!wide) continue;
        if (f.size() - at < 8) return;
        if (v != nullptr) *v = Le64(f, at);
        at += 8;
      }
      return;
    }
    pos += 4 + len;
  }
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

size_t SkipSpace(std::string_view s, size_t pos) {
  while (pos < s.size() && IsSpace(s[pos])) ++pos;
  return pos;
}

size_t SkipBom(std::string_view s) { return s.starts_with("\xEF\xBB\xBF") ? 3 : 0; }

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }

// Index just past the XML name at s[pos]; pos itself when there is none.
size_t ScanName(std::string_view s, size_t pos) {
  if (pos >= s.size() || !IsNameStart(s[pos])) return pos;
  while (pos < s.size() && IsNameChar(s[pos])) ++pos;
  return pos;
}

// --- PaddlePaddle ProgramDesc (protobuf) -------------------------------------

bool IsPaddleVersion(std::string_view message) {
  size_t pos = 0;
  onnx::WireField f;
  while (pos < message.size()) {
    if (!onnx::ReadField(message, &pos, &f).ok() || f.number != 1 || f.wire_type != 0) return false;
  }
  return true;
}

bool IsPaddleBlock(std::string_view block, bool first) {
  size_t pos = 0, index = 0;
  onnx::WireField f;
  for (; pos < block.size(); ++index) {
    if (!onnx::ReadField(block, &pos, &f).ok()) return false;
    const bool varint = f.wire_type == 0;
    if (index == 0) {
      if (f.number != 1 || !varint || (first && f.varint != 0)) return false;  // idx
    } else if (index == 1) {
      if (f.number != 2 || !varint) return false;  // parent_idx
    } else if (f.number == 3 || f.number == 4) {   // vars, ops
      if (f.wire_type != 2 || !onnx::IsWellFormedMessage(f.bytes)) return false;
    } else if (f.number != 5 || !varint) {  // forward_block_idx
      return false;
    }
  }
  return index >= 2;
}

bool LooksLikePaddleProtoProgram(std::string_view s) {
  size_t pos = 0, blocks = 0;
  onnx::WireField f;
  while (pos < s.size()) {
    if (!onnx::ReadField(s, &pos, &f).ok() || f.wire_type != 2) return false;
    if (blocks == 0 && f.number != 1) return false;  // fields come in number order
    bool ok = false;
    switch (f.number) {
      case 1:
        ok = IsPaddleBlock(f.bytes, blocks++ == 0);
        break;
      case 3:  // op_compatible_map (older Paddle)
      case 5:  // op_version_map
        ok = onnx::IsWellFormedMessage(f.bytes);
        break;
      case 4:
        ok = IsPaddleVersion(f.bytes);
        break;
      default:
        break;
    }
    if (!ok) return false;
  }
  return blocks > 0;
}

// --- JSON (just enough to read the top-level keys) ---------------------------

class JsonScanner {
 public:
  explicit JsonScanner(std::string_view s, size_t pos) : s_(s), pos_(pos) {}

  // Consumes `c` (after white space) when it comes next.
  bool Take(char c) {
    pos_ = SkipSpace(s_, pos_);
    if (pos_ >= s_.size() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  bool Peek(char c) {
    pos_ = SkipSpace(s_, pos_);
    return pos_ < s_.size() && s_[pos_] == c;
  }
  // A string; *out gets its raw content (escapes kept).
  bool String(std::string_view* out) {
    if (!Take('"')) return false;
    const size_t start = pos_;
    for (; pos_ < s_.size(); ++pos_) {
      if (s_[pos_] == '\\') {
        ++pos_;
      } else if (s_[pos_] == '"') {
        if (out != nullptr) *out = s_.substr(start, pos_ - start);
        ++pos_;
        return true;
      }
    }
    return false;
  }
  // Skips one value; brackets must pair up, scalars are not validated.
  bool SkipValue() {
    if (Peek('"')) return String(nullptr);
    if (!Peek('{') && !Peek('[')) {
      const size_t start = pos_;
      while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                  s_[pos_] == '-' || s_[pos_] == '+' || s_[pos_] == '.')) {
        ++pos_;
      }
      return pos_ > start;
    }
    std::string open;  // the brackets still open, innermost last
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '"') {
        if (!String(nullptr)) return false;
        continue;
      }
      ++pos_;
      if (c == '{' || c == '[') {
        if (open.size() >= 1000) return false;
        open.push_back(c);
      } else if (c == '}' || c == ']') {
        if (open.empty() || open.back() != (c == '}' ? '{' : '[')) return false;
        open.pop_back();
        if (open.empty()) return true;
      }
    }
    return false;
  }

 private:
  std::string_view s_;
  size_t pos_;
};

// Reads the "base_code" object: true when its "magic" is "pir".
bool IsPirBaseCode(JsonScanner& json) {
  if (!json.Take('{')) return false;
  bool pir = false;
  while (!json.Take('}')) {
    std::string_view key, value;
    if (!json.String(&key) || !json.Take(':')) return false;
    if (key == "magic" && json.Peek('"')) {
      if (!json.String(&value)) return false;
      pir = value == "pir";
    } else if (!json.SkipValue()) {
      return false;
    }
    if (!json.Take(',') && !json.Peek('}')) return false;
  }
  return pir;
}

}  // namespace

std::optional<std::string_view> XmlStartTag::Attribute(std::string_view key) const {
  for (const auto& [k, v] : attributes) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::optional<XmlStartTag> ScanXmlStartTag(std::string_view s, size_t pos) {
  if (pos >= s.size() || s[pos] != '<') return std::nullopt;
  XmlStartTag tag;
  size_t p = ScanName(s, pos + 1);
  if (p == pos + 1) return std::nullopt;
  tag.name = s.substr(pos + 1, p - pos - 1);
  while (p < s.size()) {
    const size_t before = p;
    p = SkipSpace(s, p);
    if (s.substr(p).starts_with("/>") || s.substr(p).starts_with(">")) {
      tag.self_closing = s[p] == '/';
      tag.end = p + (tag.self_closing ? 2 : 1);
      return tag;
    }
    const size_t key_end = ScanName(s, p);
    if (p == before || key_end == p) return std::nullopt;  // attributes need space before
    const std::string_view key = s.substr(p, key_end - p);
    p = SkipSpace(s, key_end);
    if (p >= s.size() || s[p] != '=') return std::nullopt;
    p = SkipSpace(s, p + 1);
    if (p >= s.size() || (s[p] != '"' && s[p] != '\'')) return std::nullopt;
    const size_t close = s.find(s[p], p + 1);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view value = s.substr(p + 1, close - p - 1);
    if (value.find('<') != std::string_view::npos || tag.Attribute(key)) return std::nullopt;
    tag.attributes.emplace_back(key, value);
    p = close + 1;
  }
  return std::nullopt;
}

bool LooksLikeOpenVinoIr(std::string_view s) {
  size_t pos = SkipBom(s);
  if (s.substr(pos).starts_with("<?xml") && pos + 5 < s.size() && IsSpace(s[pos + 5])) {
    const size_t end = s.find("?>", pos);
    if (end == std::string_view::npos) return false;
    pos = end + 2;
  }
  while (true) {
    pos = SkipSpace(s, pos);
    const std::string_view rest = s.substr(std::min(pos, s.size()));
    const bool comment = rest.starts_with("<!--");
    if (!comment && !rest.starts_with("<?")) break;
    const size_t end = s.find(comment ? "-->" : "?>", pos + (comment ? 4 : 2));
    if (end == std::string_view::npos) return false;
    pos = end + (comment ? 3 : 2);
  }
  const auto tag = ScanXmlStartTag(s, pos);
  if (!tag || tag->name != "net" || !tag->Attribute("name")) return false;
  const auto version = tag->Attribute("version");
  return version && !version->empty() &&
         std::all_of(version->begin(), version->end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool LooksLikePaddleJsonProgram(std::string_view s) {
  JsonScanner json(s, SkipBom(s));
  if (!json.Take('{')) return false;
  bool pir = false, program = false;
  while (!json.Take('}')) {
    std::string_view key;
    if (!json.String(&key) || !json.Take(':')) return false;
    if (key == "base_code") {
      if (!IsPirBaseCode(json)) return false;
      pir = true;
    } else if (key == "program" && json.Peek('{')) {
      program = true;
      if (pir) return true;  // Paddle writes base_code first; the program itself is not read
      if (!json.SkipValue()) return false;
    } else if (!json.SkipValue()) {
      return false;
    }
    if (!json.Take(',') && !json.Peek('}')) return false;
  }
  return pir && program;
}

bool LooksLikePaddleProgram(std::string_view s) {
  return LooksLikePaddleProtoProgram(s) || LooksLikePaddleJsonProgram(s);
}

std::string_view ModelFormatName(ModelFormat f) {
  switch (f) {
    case ModelFormat::kOnnx:
      return "onnx";
    case ModelFormat::kTorchScript:
      return "torchscript";
    case ModelFormat::kOpenVinoIr:
      return "openvino_ir";
    case ModelFormat::kPaddle:
      return "paddle";
    case ModelFormat::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<ZipDirectory> ReadZipDirectory(std::string_view s) {
  if (s.size() < 22 || s.substr(0, 4) != std::string_view("PK\x03\x04", 4)) return std::nullopt;
  // End of central directory: the last record with signature PK\5\6.
  size_t eocd = std::string_view::npos;
  const size_t lowest = s.size() > 22 + 65535 ? s.size() - 22 - 65535 : 0;
  for (size_t pos = s.size() - 22 + 1; pos-- > lowest;) {
    if (Le32(s, pos) == 0x06054b50) {
      eocd = pos;
      break;
    }
  }
  if (eocd == std::string_view::npos) return std::nullopt;
  ZipDirectory dir;
  dir.declared_entries = Le16(s, eocd + 10);
  dir.offset = Le32(s, eocd + 16);
  if (dir.offset == 0xffffffff || dir.declared_entries == 0xffff) {
    // Zip64: locate the zip64 EOCD through its locator just before the EOCD.
    if (eocd < 20 || Le32(s, eocd - 20) != 0x07064b50) return std::nullopt;
    uint64_t z64 = 0;
    std::memcpy(&z64, s.data() + eocd - 20 + 8, 8);
    if (z64 > s.size() || s.size() - z64 < 56 || Le32(s, z64) != 0x06064b50) return std::nullopt;
    std::memcpy(&dir.declared_entries, s.data() + z64 + 32, 8);
    std::memcpy(&dir.offset, s.data() + z64 + 48, 8);
  }
  size_t pos = dir.offset;
  for (uint64_t i = 0; i < dir.declared_entries && i < 1'000'000; ++i) {
    // Offsets come from the file: compare without sums that could wrap around.
    if (pos > s.size() || s.size() - pos < 46 || Le32(s, pos) != 0x02014b50) return std::nullopt;
    const size_t name_len = Le16(s, pos + 28), extra = Le16(s, pos + 30),
                 comment = Le16(s, pos + 32);
    if (s.size() - pos - 46 < name_len) return std::nullopt;
    ZipDirectory::Entry e{s.substr(pos + 46, name_len), Le32(s, pos + 42), Le32(s, pos + 20)};
    if (s.size() - pos - 46 - name_len >= extra) {
      ReadZip64Extra(s.substr(pos + 46 + name_len, extra), Le32(s, pos + 24), &e);
    }
    dir.entries.push_back(e);
    pos += 46 + name_len + extra + comment;
  }
  return dir;
}

bool LooksLikeTorchScript(std::string_view s) {
  const std::optional<ZipDirectory> dir = ReadZipDirectory(s);
  if (!dir) return false;
  bool has_data = false, has_code = false;
  for (const ZipDirectory::Entry& e : dir->entries) {
    has_data |= e.name == "data.pkl" || e.name.ends_with("/data.pkl");
    has_code |=
        e.name.find("/code/") != std::string_view::npos || e.name.ends_with("constants.pkl");
  }
  return has_data && has_code;
}

ModelFormat SniffModelFormat(std::string_view content) {
  if (LooksLikeTorchScript(content)) return ModelFormat::kTorchScript;
  if (onnx::LooksLikeOnnx(content)) return ModelFormat::kOnnx;
  if (LooksLikePaddleProgram(content)) return ModelFormat::kPaddle;
  if (LooksLikeOpenVinoIr(content)) return ModelFormat::kOpenVinoIr;
  return ModelFormat::kUnknown;
}

}  // namespace cinfer
