// Model file formats, recognised by content (never by file extension).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace cinfer {

enum class ModelFormat { kOnnx, kTorchScript, kOpenVinoIr, kPaddle, kUnknown };

// "onnx", "torchscript", "openvino_ir", "paddle", "unknown"
std::string_view ModelFormatName(ModelFormat f);

// Sniffs the content of a model file. For the two-file formats this is the
// file that describes the network: the OpenVINO IR .xml, the PaddlePaddle
// program (.pdmodel or .json); their weights files have no recognisable content.
ModelFormat SniffModelFormat(std::string_view content);

// True when `content` is a zip archive holding a TorchScript module
// (a "<prefix>/data.pkl" plus "<prefix>/code/" or "constants.pkl" entry).
bool LooksLikeTorchScript(std::string_view content);

// The central directory of a zip archive, as far as it can be read: nullopt
// when `content` does not start with a local file header, has no end record,
// or a directory record lies outside the file. At most 1 000 000 entries.
struct ZipDirectory {
  struct Entry {
    std::string_view name;
    uint64_t local_offset = 0;  // of the entry's local file header
    uint64_t compressed_size = 0;
  };
  uint64_t declared_entries = 0;  // as the end record says
  uint64_t offset = 0;            // of the central directory
  std::vector<Entry> entries;
};
std::optional<ZipDirectory> ReadZipDirectory(std::string_view content);

// True when `content` is an OpenVINO IR topology: XML whose root element is
// <net> with a name attribute and an all-digit version attribute. Before the
// root only a UTF-8 byte order mark, an XML declaration, comments, processing
// instructions and white space are allowed (no DOCTYPE); a "<net" inside a
// comment does not count. Only the prologue and the root tag are read, so the
// first few kilobytes of a file are enough.
bool LooksLikeOpenVinoIr(std::string_view content);

// True when `content` is a PaddlePaddle inference program, either format:
// - the protobuf ProgramDesc (.pdmodel): every top-level field is
//   length-delimited and numbered 1 (BlockDesc, at least one, first in the
//   file), 3 (legacy op_compatible_map), 4 (Version: varint field 1 only) or
//   5 (op_version_map); each BlockDesc starts with idx (field 1, varint; 0 in
//   the first block) and parent_idx (field 2, varint), followed only by vars
//   (3) and ops (4), each a well-formed message, and forward_block_idx (5,
//   varint). The whole message is walked, so pass the whole file.
// - the JSON program of Paddle 3 (PIR, written as .json): a top-level object
//   with a "base_code" object whose "magic" is "pir", and a "program" object.
//   Other keys and the content of "program" are skipped, not validated.
bool LooksLikePaddleProgram(std::string_view content);
// The JSON form alone (see above).
bool LooksLikePaddleJsonProgram(std::string_view content);

// One XML start tag, as scanned by the small OpenVINO IR readers (no XML
// library): attribute values are returned as written, entities undecoded.
struct XmlStartTag {
  std::string_view name;
  std::vector<std::pair<std::string_view, std::string_view>> attributes;
  bool self_closing = false;
  size_t end = 0;  // index just past the closing '>'

  std::optional<std::string_view> Attribute(std::string_view key) const;
};

// Scans the start tag beginning with '<' at text[pos]; nullopt when it is
// malformed (bad name, unquoted or duplicate attribute, '<' in a value) or
// runs past the end of `text`.
std::optional<XmlStartTag> ScanXmlStartTag(std::string_view text, size_t pos);

}  // namespace cinfer
