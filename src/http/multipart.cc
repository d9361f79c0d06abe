#include "http/multipart.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "common/errors.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "http/request.h"

namespace cinfer::http {
namespace {

constexpr size_t kMaxBoundaryLength = 70;  // RFC 2046 §5.1.1
constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kHeaderEnd = "\r\n\r\n";

absl::Status BadRequest(std::string_view message) {
  return MakeError(ErrorCode::kBadRequest, message);
}

bool IsSpaceOrTab(char c) { return c == ' ' || c == '\t'; }

// 1-70 printable ASCII characters, not ending in a space. (RFC 2046 restricts the set further;
// accepting any printable character keeps odd clients working and is just as safe, since CR, LF
// and other controls are still refused.)
bool IsValidBoundary(std::string_view boundary) {
  if (boundary.empty() || boundary.size() > kMaxBoundaryLength) return false;
  if (boundary.back() == ' ') return false;
  return std::all_of(boundary.begin(), boundary.end(),
                     [](char c) { return c >= 0x20 && c < 0x7f; });
}

// Parses the `; a=b; c="d\"e"` parameters following a media type or disposition type. Values may
// be quoted strings with backslash escapes or bare (trimmed) text. Names come back lowercased.
// False on malformed text (a parameter without '=', an unterminated quote, text after a quote).
bool ParseParameters(std::string_view text, std::vector<std::pair<std::string, std::string>>* out) {
  size_t i = 0;
  const size_t n = text.size();
  while (true) {
    while (i < n && (IsSpaceOrTab(text[i]) || text[i] == ';')) ++i;
    if (i == n) return true;
    size_t j = i;
    while (j < n && text[j] != '=' && text[j] != ';') ++j;
    if (j == n || text[j] == ';') return false;
    std::string_view name = Trim(text.substr(i, j - i));
    if (name.empty()) return false;
    i = j + 1;
    while (i < n && IsSpaceOrTab(text[i])) ++i;
    std::string value;
    if (i < n && text[i] == '"') {
      ++i;
      while (i < n && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < n) ++i;
        value.push_back(text[i]);
        ++i;
      }
      if (i == n) return false;  // No closing quote.
      ++i;
      while (i < n && IsSpaceOrTab(text[i])) ++i;
      if (i < n && text[i] != ';') return false;
    } else {
      j = i;
      while (j < n && text[j] != ';') ++j;
      value = std::string(Trim(text.substr(i, j - i)));
      i = j;
    }
    out->emplace_back(ToLower(name), std::move(value));
  }
}

// Decodes an RFC 8187 ext-value (`UTF-8'lang'percent-encoded`). Only UTF-8 is accepted.
absl::StatusOr<std::string> DecodeExtValue(std::string_view value) {
  const size_t q1 = value.find('\'');
  const size_t q2 = q1 == std::string_view::npos ? q1 : value.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return BadRequest("malformed filename* parameter");
  if (!EqualsIgnoreCase(value.substr(0, q1), "utf-8")) {
    return BadRequest("filename* must use the UTF-8 charset");
  }
  std::string decoded;
  if (!PercentDecode(value.substr(q2 + 1), /*plus_as_space=*/false, &decoded)) {
    return BadRequest("malformed percent-encoding in filename*");
  }
  return decoded;
}

struct PartHeaders {
  std::string name;
  std::optional<std::string> filename;
  std::string content_type;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;  // lowercase name, value

// Splits one part's header lines (the text between the boundary line and the blank line, lines
// separated by CRLF) into names and values, joining obs-fold continuation lines.
absl::StatusOr<HeaderList> SplitPartHeaderLines(std::string_view block) {
  HeaderList headers;
  size_t pos = 0;
  while (pos < block.size()) {
    size_t end = block.find(kCrlf, pos);
    if (end == std::string_view::npos) end = block.size();
    std::string_view line = block.substr(pos, end - pos);
    pos = end + kCrlf.size();
    if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
      return BadRequest("stray CR, LF or NUL in a part header");
    }
    if (!line.empty() && IsSpaceOrTab(line.front())) {  // obs-fold continuation line.
      if (headers.empty()) return BadRequest("malformed part header");
      headers.back().second = StrCat(headers.back().second, " ", Trim(line));
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return BadRequest("malformed part header");
    }
    std::string_view name = line.substr(0, colon);
    if (std::any_of(name.begin(), name.end(), [](char c) { return c == ' ' || c == '\t'; })) {
      return BadRequest("malformed part header name");
    }
    headers.emplace_back(ToLower(name), std::string(Trim(line.substr(colon + 1))));
  }
  return headers;
}

// Reads a part's Content-Disposition value `text` (form-data; name, filename, filename*) into
// `out`'s name and filename.
absl::Status ParseFormDataDisposition(std::string_view text, PartHeaders* out) {
  const size_t semi = text.find(';');
  if (!EqualsIgnoreCase(Trim(text.substr(0, semi)), "form-data")) {
    return BadRequest("part Content-Disposition is not form-data");
  }
  HeaderList params;
  if (semi != std::string_view::npos && !ParseParameters(text.substr(semi + 1), &params)) {
    return BadRequest("malformed Content-Disposition parameters");
  }
  const std::string* name = nullptr;
  const std::string* filename = nullptr;
  const std::string* filename_ext = nullptr;
  for (const auto& [key, value] : params) {
    const std::string** slot = key == "name"        ? &name
                               : key == "filename"  ? &filename
                               : key == "filename*" ? &filename_ext
                                                    : nullptr;
    if (slot == nullptr) continue;
    if (*slot != nullptr) return BadRequest(StrCat("duplicate Content-Disposition ", key));
    *slot = &value;
  }
  if (name == nullptr || name->empty()) {
    return BadRequest("part without a Content-Disposition name");
  }
  out->name = *name;
  if (filename != nullptr) {
    // RFC 7578 §4.2 drops filename* for form-data: the plain parameter wins when both are sent.
    out->filename = *filename;
  } else if (filename_ext != nullptr) {
    ASSIGN_OR_RETURN(out->filename, DecodeExtValue(*filename_ext));
  }
  return absl::OkStatus();
}

// Parses one part's header block. Only Content-Disposition and Content-Type are interpreted.
absl::StatusOr<PartHeaders> ParsePartHeaders(std::string_view block) {
  ASSIGN_OR_RETURN(const HeaderList headers, SplitPartHeaderLines(block));
  PartHeaders out;
  const std::string* disposition = nullptr;
  const std::string* content_type = nullptr;
  for (const auto& [name, value] : headers) {
    const std::string** slot = name == "content-disposition" ? &disposition
                               : name == "content-type"      ? &content_type
                                                             : nullptr;
    if (slot == nullptr) continue;
    if (*slot != nullptr) return BadRequest(StrCat("duplicate ", name, " header in a part"));
    *slot = &value;
  }
  if (disposition == nullptr) return BadRequest("part without Content-Disposition");
  if (content_type != nullptr) out.content_type = *content_type;
  RETURN_IF_ERROR(ParseFormDataDisposition(*disposition, &out));
  return out;
}

using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

// Streams one body file through the multipart grammar. Single use, not thread-safe. Owns the
// body's file descriptor and the spool files it creates until Parse succeeds; the destructor
// closes every descriptor and, unless Parse succeeded, removes every spool file it created.
class MultipartFileParser {
 public:
  MultipartFileParser(std::string_view boundary, const std::string& spool_dir,
                      const MultipartLimits& limits)
      : delimiter_(StrCat(kCrlf, "--", boundary)),
        spool_dir_(spool_dir),
        limits_(limits),
        chunk_size_(std::max<size_t>(1, limits.chunk_size)) {}

  ~MultipartFileParser() {
    if (in_fd_ >= 0) ::close(in_fd_);
    if (out_fd_ >= 0) ::close(out_fd_);
    if (!succeeded_) {
      for (const std::string& path : created_) ::unlink(path.c_str());
    }
  }

  MultipartFileParser(const MultipartFileParser&) = delete;
  MultipartFileParser& operator=(const MultipartFileParser&) = delete;

  absl::StatusOr<std::vector<MultipartPart>> Parse(const std::string& body_path) {
    in_fd_ = ::open(body_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in_fd_ < 0) {
      return absl::InternalError(StrCat("cannot open ", body_path, ": ", strerror(errno)));
    }
    return ParseParts();
  }

  // The same grammar over a body in memory; file parts are kept in `value`.
  absl::StatusOr<std::vector<MultipartPart>> ParseMemory(std::string_view body) {
    memory_ = body;
    return ParseParts();
  }

 private:
  absl::StatusOr<std::vector<MultipartPart>> ParseParts() {
    RETURN_IF_ERROR(SkipPreamble());
    while (true) {
      ASSIGN_OR_RETURN(bool closed, ReadBoundaryLineTail());
      if (closed) break;  // Anything after the close delimiter is epilogue.
      if (parts_.size() >= limits_.max_parts) {
        return BadRequest(StrCat("too many parts (limit ", limits_.max_parts, ")"));
      }
      ASSIGN_OR_RETURN(PartHeaders headers, ReadHeaders());
      MultipartPart part;
      part.name = std::move(headers.name);
      part.filename = std::move(headers.filename);
      part.content_type = std::move(headers.content_type);
      if (part.filename.has_value()) RETURN_IF_ERROR(OpenSpoolFile(&part));
      RETURN_IF_ERROR(ReadBody(&part));
      if (part.filename.has_value()) RETURN_IF_ERROR(CloseSpoolFile(&part));
      parts_.push_back(std::move(part));
    }
    succeeded_ = true;
    return std::move(parts_);
  }

  std::string_view Pending() const { return std::string_view(buf_).substr(start_); }

  // Appends up to one chunk to the buffer, dropping consumed bytes first. False at end of file.
  absl::StatusOr<bool> ReadMore() {
    if (eof_) return false;
    buf_.erase(0, start_);
    start_ = 0;
    if (memory_.has_value()) {  // the whole rest at once: one copy, no reads
      const bool more = memory_pos_ < memory_->size();
      buf_.append(memory_->substr(memory_pos_));
      memory_pos_ = memory_->size();
      eof_ = !more;
      return more;
    }
    const size_t old_size = buf_.size();
    buf_.resize(old_size + chunk_size_);
    ssize_t n;
    do {
      n = ::read(in_fd_, buf_.data() + old_size, chunk_size_);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      const int err = errno;
      buf_.resize(old_size);
      return absl::InternalError(StrCat("cannot read the request body: ", strerror(err)));
    }
    buf_.resize(old_size + static_cast<size_t>(n));
    if (n == 0) eof_ = true;
    return n > 0;
  }

  // Ensures at least `n` unconsumed bytes are buffered; false if the body ends first.
  absl::StatusOr<bool> Ensure(size_t n) {
    while (Pending().size() < n) {
      ASSIGN_OR_RETURN(bool more, ReadMore());
      if (!more) return false;
    }
    return true;
  }

  // Consumes everything up to and including the first delimiter. The body is treated as if it
  // began with CRLF so that a leading "--boundary" (no preamble) matches too.
  absl::Status SkipPreamble() {
    buf_.assign(kCrlf);
    while (true) {
      const size_t pos = Pending().find(delimiter_);
      if (pos != std::string_view::npos) {
        start_ += pos + delimiter_.size();
        return absl::OkStatus();
      }
      // Keep only what could still be the start of a delimiter.
      const size_t keep = std::min(Pending().size(), delimiter_.size() - 1);
      start_ = buf_.size() - keep;
      ASSIGN_OR_RETURN(bool more, ReadMore());
      if (!more) return BadRequest("multipart body does not contain the boundary");
    }
  }

  // After a delimiter: "--" closes the body (true); otherwise optional transport padding (spaces,
  // tabs) and CRLF start a part (false), leaving the CRLF unconsumed for ReadHeaders.
  absl::StatusOr<bool> ReadBoundaryLineTail() {
    ASSIGN_OR_RETURN(bool have, Ensure(2));
    if (!have) return BadRequest("truncated multipart body");
    if (Pending().substr(0, 2) == "--") {
      start_ += 2;
      return true;
    }
    size_t padding = 0;
    while (true) {
      ASSIGN_OR_RETURN(have, Ensure(padding + 2));
      if (!have) return BadRequest("truncated multipart body");
      const std::string_view pending = Pending();
      if (pending.substr(padding, 2) == kCrlf) break;
      if (!IsSpaceOrTab(pending[padding])) return BadRequest("malformed multipart boundary line");
      if (++padding > limits_.max_header_bytes) {
        return BadRequest("multipart boundary line too long");
      }
    }
    start_ += padding;
    return false;
  }

  // Reads the header block that follows the boundary line's CRLF (still unconsumed), up to and
  // including the blank line, and parses it.
  absl::StatusOr<PartHeaders> ReadHeaders() {
    size_t scanned = 0;
    size_t end;
    while (true) {
      // `Pending()` starts with the boundary line's CRLF, so an empty header block is found at 0.
      end = Pending().find(kHeaderEnd, scanned);
      if (end != std::string_view::npos) break;
      const size_t available = Pending().size();
      if (available > limits_.max_header_bytes + 6) break;  // Checked exactly below.
      scanned = available >= kHeaderEnd.size() ? available - (kHeaderEnd.size() - 1) : 0;
      ASSIGN_OR_RETURN(bool more, ReadMore());
      if (!more) return BadRequest("truncated multipart body");
    }
    const size_t text_size = end == std::string_view::npos ? std::string_view::npos
                             : end == 0                    ? 0
                                                           : end - kCrlf.size();
    if (text_size == std::string_view::npos || text_size > limits_.max_header_bytes) {
      return BadRequest(
          StrCat("multipart part headers too long (limit ", limits_.max_header_bytes, " bytes)"));
    }
    const std::string_view text = Pending().substr(kCrlf.size(), text_size);
    auto headers = ParsePartHeaders(text);
    start_ += end + kHeaderEnd.size();
    return headers;
  }

  // Streams the part's content up to the next delimiter, which it consumes.
  absl::Status ReadBody(MultipartPart* part) {
    while (true) {
      const std::string_view pending = Pending();
      const size_t pos = pending.find(delimiter_);
      if (pos != std::string_view::npos) {
        RETURN_IF_ERROR(Emit(pending.substr(0, pos), part));
        start_ += pos + delimiter_.size();
        return absl::OkStatus();
      }
      // Everything but a possible delimiter prefix at the end is content.
      if (pending.size() >= delimiter_.size()) {
        const size_t safe = pending.size() - (delimiter_.size() - 1);
        RETURN_IF_ERROR(Emit(pending.substr(0, safe), part));
        start_ += safe;
      }
      ASSIGN_OR_RETURN(bool more, ReadMore());
      if (!more) return BadRequest("truncated multipart body");
    }
  }

  absl::Status Emit(std::string_view data, MultipartPart* part) {
    if (data.empty()) return absl::OkStatus();
    if (!part->filename.has_value()) {
      if (data.size() > limits_.max_field_bytes - part->value.size()) {
        return PayloadTooLargeError(
            StrCat("form field \"", part->name, "\" exceeds ", limits_.max_field_bytes, " bytes"));
      }
      part->value.append(data);
      return absl::OkStatus();
    }
    if (data.size() > limits_.max_file_bytes - part->size) {
      return PayloadTooLargeError(
          StrCat("uploaded file \"", part->name, "\" exceeds ", limits_.max_file_bytes, " bytes"));
    }
    if (memory_.has_value()) {
      part->value.append(data);
      part->size += data.size();
      return absl::OkStatus();
    }
    if (EVP_DigestUpdate(sha_.get(), data.data(), data.size()) != 1) {
      return absl::InternalError("SHA-256 update failed");
    }
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      const ssize_t n = ::write(out_fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return absl::InternalError(StrCat("cannot write ", part->file_path, ": ", strerror(errno)));
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    part->size += data.size();
    return absl::OkStatus();
  }

  absl::Status OpenSpoolFile(MultipartPart* part) {
    if (memory_.has_value()) return absl::OkStatus();
    part->file_path = StrCat(spool_dir_, "/", RandomHex(16));
    out_fd_ = ::open(part->file_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                     S_IRUSR | S_IWUSR);
    if (out_fd_ < 0) {
      return absl::InternalError(StrCat("cannot create ", part->file_path, ": ", strerror(errno)));
    }
    created_.push_back(part->file_path);
    sha_.reset(EVP_MD_CTX_new());
    if (sha_ == nullptr || EVP_DigestInit_ex(sha_.get(), EVP_sha256(), nullptr) != 1) {
      return absl::InternalError("SHA-256 init failed");
    }
    return absl::OkStatus();
  }

  absl::Status CloseSpoolFile(MultipartPart* part) {
    if (memory_.has_value()) return absl::OkStatus();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    if (EVP_DigestFinal_ex(sha_.get(), digest, &digest_size) != 1) {
      return absl::InternalError("SHA-256 final failed");
    }
    part->sha256_hex = HexEncode(std::string_view(reinterpret_cast<char*>(digest), digest_size));
    const int fd = std::exchange(out_fd_, -1);
    if (::close(fd) != 0) {
      return absl::InternalError(StrCat("cannot close ", part->file_path, ": ", strerror(errno)));
    }
    return absl::OkStatus();
  }

  const std::string delimiter_;  // CRLF "--" boundary
  const std::string spool_dir_;
  const MultipartLimits limits_;
  const size_t chunk_size_;

  int in_fd_ = -1;
  std::optional<std::string_view> memory_;  // ParseMemory's body instead of in_fd_
  size_t memory_pos_ = 0;
  std::string buf_;   // Read but not yet processed bytes start at start_.
  size_t start_ = 0;  // Bytes before it are consumed; dropped on the next read.
  bool eof_ = false;

  int out_fd_ = -1;  // The spool file being written, if any.
  EvpMdCtxPtr sha_{nullptr, &EVP_MD_CTX_free};
  std::vector<std::string> created_;
  std::vector<MultipartPart> parts_;
  bool succeeded_ = false;
};

}  // namespace

absl::StatusOr<std::string> MultipartBoundary(std::string_view content_type) {
  const size_t semi = content_type.find(';');
  if (!EqualsIgnoreCase(Trim(content_type.substr(0, semi)), "multipart/form-data")) {
    return BadRequest("Content-Type must be multipart/form-data");
  }
  std::vector<std::pair<std::string, std::string>> params;
  if (semi != std::string_view::npos && !ParseParameters(content_type.substr(semi + 1), &params)) {
    return BadRequest("malformed Content-Type parameters");
  }
  const std::string* boundary = nullptr;
  for (const auto& [name, value] : params) {
    if (name != "boundary") continue;
    if (boundary != nullptr) return BadRequest("duplicate multipart boundary parameter");
    boundary = &value;
  }
  if (boundary == nullptr) return BadRequest("multipart/form-data without a boundary");
  if (!IsValidBoundary(*boundary)) return BadRequest("invalid multipart boundary");
  return *boundary;
}

absl::Status RejectDuplicateParts(const std::vector<MultipartPart>& parts,
                                  const std::vector<std::string_view>& repeatable) {
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& name = parts[i].name;
    if (std::find(repeatable.begin(), repeatable.end(), name) != repeatable.end()) continue;
    for (size_t j = 0; j < i; ++j) {
      if (parts[j].name == name) {
        return BadRequest(StrCat("multipart part '", name, "' appears more than once"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<MultipartPart>> ParseMultipartFile(const std::string& body_path,
                                                              std::string_view boundary,
                                                              const std::string& spool_dir,
                                                              const MultipartLimits& limits) {
  if (!IsValidBoundary(boundary)) return BadRequest("invalid multipart boundary");
  MultipartFileParser parser(boundary, spool_dir, limits);
  return parser.Parse(body_path);
}

absl::StatusOr<std::vector<MultipartPart>> ParseMultipart(std::string_view body,
                                                          std::string_view boundary,
                                                          const MultipartLimits& limits) {
  if (!IsValidBoundary(boundary)) return BadRequest("invalid multipart boundary");
  MultipartFileParser parser(boundary, "", limits);
  return parser.ParseMemory(body);
}

}  // namespace cinfer::http
