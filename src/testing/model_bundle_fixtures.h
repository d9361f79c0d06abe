// Test helpers for model bundles: archives written with libarchive (hostile
// ones included), a hand-encoded PaddlePaddle program and a minimal OpenVINO IR.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace cinfer::testing {

struct ArchiveEntry {
  ArchiveEntry(std::string n, std::string d, unsigned t = AE_IFREG, std::string l = "",
               bool h = false)
      : name(std::move(n)), data(std::move(d)), type(t), link(std::move(l)), hard(h) {}

  std::string name;
  std::string data;
  unsigned type = AE_IFREG;  // AE_IFDIR, AE_IFLNK, AE_IFCHR, ...
  std::string link;          // target of a symbolic link, or of a hard link when `hard`
  bool hard = false;
};

enum class ArchiveKind { kZip, kTar, kTarGz };

// Writes `entries` with libarchive's writer; false on any libarchive error.
inline bool WriteArchive(const std::string& path, ArchiveKind kind,
                         const std::vector<ArchiveEntry>& entries) {
  std::unique_ptr<archive, int (*)(archive*)> w(archive_write_new(), archive_write_free);
  if (kind == ArchiveKind::kZip) {
    archive_write_set_format_zip(w.get());
  } else {
    archive_write_set_format_pax_restricted(w.get());
    if (kind == ArchiveKind::kTarGz) archive_write_add_filter_gzip(w.get());
  }
  if (archive_write_open_filename(w.get(), path.c_str()) != ARCHIVE_OK) return false;
  for (const ArchiveEntry& e : entries) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(),
                                                                   archive_entry_free);
    archive_entry_set_pathname(entry.get(), e.name.c_str());
    archive_entry_set_filetype(entry.get(), e.type);
    archive_entry_set_perm(entry.get(), e.type == AE_IFDIR ? 0755 : 0644);
    if (e.type == AE_IFLNK) archive_entry_set_symlink(entry.get(), e.link.c_str());
    if (e.hard) archive_entry_set_hardlink(entry.get(), e.link.c_str());
    if (e.type == AE_IFCHR) archive_entry_set_rdev(entry.get(), 0x0103);  // like /dev/null
    archive_entry_set_size(entry.get(), e.type == AE_IFREG ? e.data.size() : 0);
    if (archive_write_header(w.get(), entry.get()) != ARCHIVE_OK) return false;
    if (!e.data.empty() && archive_write_data(w.get(), e.data.data(), e.data.size()) !=
                               static_cast<la_ssize_t>(e.data.size())) {
      return false;
    }
  }
  return archive_write_close(w.get()) == ARCHIVE_OK;
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteAll(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

// Everything under `dir` (files and folders), relative, sorted.
inline std::vector<std::string> ListTree(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    out.push_back(std::filesystem::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// --- protobuf by hand ------------------------------------------------------------

inline std::string Varint(uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7f) | 0x80));
  out.push_back(static_cast<char>(v));
  return out;
}
inline std::string VarintField(int number, uint64_t v) { return Varint(number << 3) + Varint(v); }
inline std::string BytesField(int number, const std::string& payload) {
  return Varint((number << 3) | 2) + Varint(payload.size()) + payload;
}

// A BlockDesc{idx, parent_idx, vars: [x: LOD_TENSOR], ops: [feed]}.
inline std::string PaddleBlock(int64_t idx, int64_t parent_idx) {
  const std::string var = BytesField(1, "x") + BytesField(2, VarintField(1, 7));
  const std::string op = BytesField(3, "feed");
  return VarintField(1, static_cast<uint64_t>(idx)) +
         VarintField(2, static_cast<uint64_t>(parent_idx)) + BytesField(3, var) + BytesField(4, op);
}

// ProgramDesc{blocks: [block 0, parent -1], version: {0}}.
inline std::string PaddleProgram() {
  return BytesField(1, PaddleBlock(0, -1)) + BytesField(4, VarintField(1, 0));
}

inline const char kPaddleJsonProgram[] =
    R"({"base_code":{"magic":"pir","trainable":false,"version":1},)"
    R"("program":{"regions":[{"#":"region_0","blocks":[{"#":"block_0","args":[],"ops":[]}]}]}})";

// A minimal OpenVINO IR whose one Const layer reads `size` bytes at `offset`.
inline std::string IrXml(int offset = 0, int size = 8) {
  return "<?xml version=\"1.0\"?>\n"
         "<!-- not the root: <net name=\"fake\" version=\"1\"> -->\n"
         "<net name=\"t\" version=\"11\">\n"
         "  <layers>\n"
         "    <layer id=\"0\" name=\"x\" type=\"Parameter\" version=\"opset1\">\n"
         "      <data shape=\"2\" element_type=\"f32\"/>\n"
         "    </layer>\n"
         "    <layer id=\"1\" name=\"c\" type=\"Const\" version=\"opset1\">\n"
         "      <data element_type=\"f32\" shape=\"2\" offset=\"" +
         std::to_string(offset) + "\" size=\"" + std::to_string(size) +
         "\"/>\n"
         "    </layer>\n"
         "  </layers>\n"
         "  <edges/>\n"
         "</net>\n";
}

}  // namespace cinfer::testing
