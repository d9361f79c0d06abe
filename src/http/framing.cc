#include "http/framing.h"

#include "common/errors.h"
#include "common/strings.h"

namespace cinfer::http {
namespace {

namespace bhttp = boost::beast::http;

absl::Status BadFraming(std::string_view why) {
  return MakeError(ErrorCode::kBadRequest, StrCat("malformed HTTP request: ", why));
}

bool IsChunkedOnly(std::string_view value) {
  const std::string v = ToLower(Trim(value));
  return v == "chunked";
}

}  // namespace

size_t HeaderBlockEnd(std::string_view bytes) {
  const size_t end = bytes.find("\r\n\r\n");
  return end == std::string_view::npos ? end : end + 4;
}

bool HasObsFold(std::string_view block) {
  for (size_t pos = block.find("\r\n"); pos != std::string_view::npos;
       pos = block.find("\r\n", pos + 2)) {
    if (pos + 2 < block.size() && (block[pos + 2] == ' ' || block[pos + 2] == '\t')) return true;
  }
  return false;
}

absl::Status CheckRequestFraming(const bhttp::request_header<>& header, std::string_view block) {
  if (HasObsFold(block)) return BadFraming("obsolete line folding in a header field");
  const bool http11 = header.version() >= 11;
  const size_t hosts = header.count(bhttp::field::host);
  if (hosts > 1) return BadFraming("more than one Host header");
  if (http11 && hosts == 0) return BadFraming("HTTP/1.1 request without a Host header");
  const size_t lengths = header.count(bhttp::field::content_length);
  if (lengths > 1) return BadFraming("more than one Content-Length header");
  if (lengths == 1 && header[bhttp::field::content_length].find(',') != std::string_view::npos) {
    return BadFraming("Content-Length holds several values");
  }
  const size_t codings = header.count(bhttp::field::transfer_encoding);
  if (codings == 0) return absl::OkStatus();
  if (!http11) return BadFraming("Transfer-Encoding in an HTTP/1.0 request");
  if (codings > 1) return BadFraming("more than one Transfer-Encoding header");
  if (lengths > 0) return BadFraming("both Transfer-Encoding and Content-Length");
  if (!IsChunkedOnly(header[bhttp::field::transfer_encoding])) {
    return BadFraming("the only transfer coding accepted is 'chunked'");
  }
  return absl::OkStatus();
}

}  // namespace cinfer::http
