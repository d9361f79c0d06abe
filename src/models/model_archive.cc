#include "models/model_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "common/errors.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "engines/model_format.h"

namespace cinfer {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxNameBytes = 255;

absl::Status Bad(std::string_view message) { return absl::InvalidArgumentError(ToAbsl(message)); }
std::string Quoted(std::string_view name) { return StrCat("'", EscapeForLog(name, 300), "'"); }
std::string Errno() { return std::strerror(errno); }

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

uint32_t Le(std::string_view s, size_t pos, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[pos + i]);
  return v;
}

// libarchive trusts the local headers for names and skips entries that share an
// offset, so the central directory is checked against them here: every entry's
// local header must carry the same name, and no entry may overlap the next.
absl::Status CheckZipDirectory(std::string_view zip, const ArchiveLimits& limits,
                               uint64_t* entries) {
  const std::optional<ZipDirectory> dir = ReadZipDirectory(zip);
  if (!dir) return Bad("the zip archive's central directory cannot be read");
  if (dir->declared_entries > limits.max_entries) {
    return PayloadTooLargeError(
        StrCat("the archive has more than ", limits.max_entries, " entries"));
  }
  std::vector<const ZipDirectory::Entry*> order;
  for (const auto& e : dir->entries) order.push_back(&e);
  std::sort(order.begin(), order.end(),
            [](const auto* a, const auto* b) { return a->local_offset < b->local_offset; });
  for (size_t i = 0; i < order.size(); ++i) {
    const ZipDirectory::Entry& e = *order[i];
    const uint64_t at = e.local_offset;
    const std::string shown = Quoted(e.name);
    if (at > zip.size() || zip.size() - at < 30 || Le(zip, at, 4) != 0x04034b50) {
      return Bad(StrCat("zip entry ", shown, " has no local header where the directory says"));
    }
    const size_t name_len = Le(zip, at + 26, 2), extra = Le(zip, at + 28, 2);
    if (zip.size() - at - 30 < name_len || zip.substr(at + 30, name_len) != e.name) {
      return Bad(StrCat("zip entry ", shown, " has another name in its local header"));
    }
    const uint64_t data = at + 30 + name_len + extra;
    const uint64_t next = i + 1 < order.size() ? order[i + 1]->local_offset : dir->offset;
    if (data > next || e.compressed_size > next - data) {
      return Bad(StrCat("zip entry ", shown, " overlaps the next entry or the directory"));
    }
  }
  *entries = dir->declared_entries;
  return absl::OkStatus();
}

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

std::string ArchiveError(archive* a) {
  const char* e = archive_error_string(a);
  return e != nullptr ? e : "unknown libarchive error";
}

// The components of an entry name, "." and empty ones dropped.
absl::StatusOr<std::vector<std::string>> EntryParts(const char* raw, bool is_dir,
                                                    const ArchiveLimits& limits) {
  if (raw == nullptr) return Bad("an archive entry has no name");
  const std::string_view name(raw);
  const std::string shown = Quoted(name);
  if (name.size() > kMaxNameBytes) {
    return Bad(StrCat("archive entry ", shown, " has a name longer than 255 bytes"));
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\') {
      return Bad(StrCat("archive entry ", shown, " has a control character or backslash"));
    }
  }
  if (name.starts_with("/")) return Bad(StrCat("archive entry ", shown, " is an absolute path"));
  std::vector<std::string> parts;
  for (std::string_view part : Split(name, '/', /*skip_empty=*/true)) {
    if (part == "..") return Bad(StrCat("archive entry ", shown, " leaves the folder"));
    if (part != ".") parts.emplace_back(part);
  }
  if (parts.empty() && !is_dir) return Bad(StrCat("archive entry ", shown, " has no file name"));
  const size_t folders = is_dir ? parts.size() : parts.size() - 1;
  if (folders > static_cast<size_t>(std::max(limits.max_depth, 0))) {
    return Bad(
        StrCat("archive entry ", shown, " lies more than ", limits.max_depth, " folders deep"));
  }
  return parts;
}

class Unpacker {
 public:
  Unpacker(const ArchiveLimits& limits, std::string dest)
      : limits_(limits), dest_(std::move(dest)) {}

  absl::Status Run(archive* a, int dest_fd, std::string_view content) {
    dest_fd_ = dest_fd;
    buffer_.resize(64 * 1024);
    bool zip_checked = false;
    uint64_t zip_entries = 0;
    for (;;) {
      archive_entry* entry = nullptr;
      const int r = archive_read_next_header(a, &entry);
      const bool zip = (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP;
      if (zip && !zip_checked) {
        RETURN_IF_ERROR(CheckZipDirectory(content, limits_, &zip_entries));
        zip_checked = true;
      }
      if (r == ARCHIVE_EOF) {
        if (!zip || entries_ == zip_entries) return absl::OkStatus();
        return Bad(StrCat("the zip archive's directory lists ", zip_entries,
                          " entries, libarchive found ", entries_));
      }
      if (r != ARCHIVE_OK) return Bad(StrCat("the archive is damaged: ", ArchiveError(a)));
      if (++entries_ > limits_.max_entries) {
        return PayloadTooLargeError(
            StrCat("the archive has more than ", limits_.max_entries, " entries"));
      }
      RETURN_IF_ERROR(Entry(a, entry));
    }
  }

  // Removes what was written, deepest first.
  void Undo() {
    std::error_code ec;
    for (auto it = files_.rbegin(); it != files_.rend(); ++it) fs::remove(Path(*it), ec);
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) fs::remove(Path(*it), ec);
  }

  const std::vector<std::string>& files() const { return files_; }

 private:
  std::string Path(const std::string& rel) const { return dest_ + "/" + rel; }

  absl::Status Entry(archive* a, archive_entry* entry) {
    const mode_t type = archive_entry_filetype(entry);
    ASSIGN_OR_RETURN(auto parts,
                     EntryParts(archive_entry_pathname(entry), type == AE_IFDIR, limits_));
    const std::string rel = Join(parts, "/");
    const std::string shown = Quoted(rel);
    if (archive_entry_hardlink(entry) != nullptr) {
      return Bad(StrCat("archive entry ", shown, " is a hard link"));
    }
    if (type == AE_IFLNK || archive_entry_symlink(entry) != nullptr) {
      return Bad(StrCat("archive entry ", shown, " is a symbolic link"));
    }
    if (type != AE_IFDIR && type != AE_IFREG) {
      return Bad(StrCat("archive entry ", shown, " is a device, fifo or socket, not a file"));
    }
    if (names_.count(rel) != 0 || (type == AE_IFREG && dir_names_.count(rel) != 0)) {
      return Bad(StrCat("archive entry ", shown, " appears twice"));
    }
    if (type == AE_IFDIR) return OpenFolders(parts, parts.size()).status();
    names_.insert(rel);
    return WriteFile(a, entry, parts, rel);
  }

  // Opens (creating as needed) the folder made of the first `n` parts.
  absl::StatusOr<Fd> OpenFolders(const std::vector<std::string>& parts, size_t n) {
    Fd cur(::dup(dest_fd_));
    std::string rel;
    for (size_t i = 0; i < n; ++i) {
      rel += (i == 0 ? "" : "/") + parts[i];
      if (::mkdirat(cur.get(), parts[i].c_str(), 0700) == 0) {
        dirs_.push_back(rel);
      } else if (errno != EEXIST) {
        return absl::InternalError(StrCat("cannot create folder ", Path(rel), ": ", Errno()));
      }
      dir_names_.insert(rel);
      Fd next(
          ::openat(cur.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (next.get() < 0) {
        return Bad(StrCat("archive entry ", Quoted(rel), " is both a file and a folder"));
      }
      cur = std::move(next);
    }
    return cur;
  }

  absl::Status WriteFile(archive* a, archive_entry* entry, const std::vector<std::string>& parts,
                         const std::string& rel) {
    const std::string shown = Quoted(rel);
    if (archive_entry_size_is_set(entry)) {
      const la_int64_t declared = archive_entry_size(entry);
      if (declared < 0) return Bad(StrCat("archive entry ", shown, " has a negative size"));
      RETURN_IF_ERROR(CheckSizes(rel, static_cast<uint64_t>(declared)));
    }
    ASSIGN_OR_RETURN(Fd dir, OpenFolders(parts, parts.size() - 1));
    Fd out(::openat(dir.get(), parts.back().c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (out.get() < 0) {
      if (errno == EEXIST) return Bad(StrCat("archive entry ", shown, " appears twice"));
      return absl::InternalError(StrCat("cannot create ", Path(rel), ": ", Errno()));
    }
    files_.push_back(rel);
    uint64_t written = 0;
    for (;;) {
      const la_ssize_t n = archive_read_data(a, buffer_.data(), buffer_.size());
      if (n == 0) {
        total_ += written;
        return absl::OkStatus();
      }
      if (n < 0) {
        return Bad(StrCat("archive entry ", shown, " cannot be read: ", ArchiveError(a)));
      }
      written += static_cast<uint64_t>(n);
      RETURN_IF_ERROR(CheckSizes(rel, written));  // the declared size may lie
      RETURN_IF_ERROR(WriteAll(out.get(), static_cast<size_t>(n), rel));
    }
  }

  // `entry_bytes` of the current file, after the `total_` bytes of the files before it.
  absl::Status CheckSizes(const std::string& rel, uint64_t entry_bytes) const {
    const uint64_t total = total_;
    if (entry_bytes > limits_.max_entry_bytes) {
      return PayloadTooLargeError(StrCat("archive entry ", Quoted(rel), " is larger than ",
                                         limits_.max_entry_bytes, " bytes"));
    }
    if (total > limits_.max_unpacked_bytes || entry_bytes > limits_.max_unpacked_bytes - total) {
      return PayloadTooLargeError(
          StrCat("the archive unpacks to more than ", limits_.max_unpacked_bytes, " bytes"));
    }
    return absl::OkStatus();
  }

  absl::Status WriteAll(int fd, size_t n, const std::string& rel) {
    const char* p = buffer_.data();
    while (n > 0) {
      const ssize_t w = ::write(fd, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return absl::InternalError(StrCat("cannot write ", Path(rel), ": ", Errno()));
      p += w;
      n -= static_cast<size_t>(w);
    }
    return absl::OkStatus();
  }

  const ArchiveLimits limits_;
  const std::string dest_;
  int dest_fd_ = -1;
  std::vector<char> buffer_;
  std::vector<std::string> files_, dirs_;  // created, in order
  std::set<std::string> names_, dir_names_;
  size_t entries_ = 0;
  uint64_t total_ = 0;
};

}  // namespace

absl::StatusOr<MappedFile> MappedFile::Open(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
    return absl::NotFoundError(StrCat("cannot open ", path, ": ", Errno()));
  }
  if (!S_ISREG(st.st_mode)) return Bad(StrCat(path, " is not a regular file"));
  MappedFile file;
  if (st.st_size == 0) return file;
  void* data = ::mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (data == MAP_FAILED) return absl::InternalError(StrCat("cannot map ", path, ": ", Errno()));
  file.data_ = data;
  file.size_ = static_cast<size_t>(st.st_size);
  return file;
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

absl::StatusOr<std::vector<std::string>> UnpackArchive(const std::string& archive_path,
                                                       const std::string& dest_dir,
                                                       const ArchiveLimits& limits) {
  struct stat st {};
  if (::stat(archive_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::NotFoundError(StrCat("cannot open the archive ", archive_path));
  }
  RETURN_IF_ERROR(EnsureDirectory(dest_dir, 0700));
  Fd dest(::open(dest_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dest.get() < 0) return absl::InternalError(StrCat("cannot open ", dest_dir, ": ", Errno()));
  ArchivePtr a(archive_read_new());
  if (a == nullptr) return absl::InternalError("libarchive: out of memory");
  // Seekable zip only: the central directory, not the local headers, says what is there.
  archive_read_support_format_zip_seekable(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_filter_gzip(a.get());
  if (archive_read_open_filename(a.get(), archive_path.c_str(), 64 * 1024) != ARCHIVE_OK) {
    return Bad(StrCat("not a zip or tar archive: ", ArchiveError(a.get())));
  }
  ASSIGN_OR_RETURN(MappedFile content, MappedFile::Open(archive_path));
  Unpacker unpacker(limits, dest_dir);
  if (absl::Status s = unpacker.Run(a.get(), dest.get(), content.view()); !s.ok()) {
    unpacker.Undo();
    return s;
  }
  return unpacker.files();
}

bool LooksLikeArchive(std::string_view content) {
  if (content.starts_with("\x1f\x8b")) return true;
  if (content.size() >= 262 && content.substr(257, 5) == "ustar") return true;
  return content.starts_with(std::string_view("PK\x03\x04", 4)) && !LooksLikeTorchScript(content);
}

absl::StatusOr<bool> FileLooksLikeArchive(const std::string& path) {
  ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  return LooksLikeArchive(file.view());
}

}  // namespace cinfer
