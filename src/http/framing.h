// Request framing rules of RFC 9112 that Boost.Beast's parser leaves to us,
// checked on a parsed request header before any body byte is read, so that a
// body can never be taken for a second request (request smuggling):
//   - Transfer-Encoding must be exactly "chunked" (one field, HTTP/1.1 only);
//     any other coding list ("xchunked", "chunked, identity", "gzip", "") is
//     refused, and so is Transfer-Encoding together with Content-Length;
//   - at most one Content-Length field holding one value;
//   - HTTP/1.1 requests carry exactly one Host field; no request carries two;
//   - no obsolete line folding (a header line continued on the next line).
// A refused request gets 400 BAD_REQUEST and its connection is closed.
// Pure functions; thread-safe.
#pragma once

#include <boost/beast/http/message.hpp>
#include <cstddef>
#include <string_view>

#include "absl/status/status.h"

namespace cinfer::http {

// At most this many chunks in one chunked body (each chunk costs a parser
// round trip; a million 1-byte chunks would be a cheap denial of service).
inline constexpr size_t kMaxChunksPerBody = 65536;

// The index just past the blank line that ends the header block at the start
// of `bytes`, or npos when the block is not complete yet.
size_t HeaderBlockEnd(std::string_view bytes);

// True when a header line in `block` is continued on the next line (obs-fold:
// CRLF followed by a space or a tab).
bool HasObsFold(std::string_view block);

// OK, or BAD_REQUEST naming the violated rule. `block` is the raw header block
// the header was parsed from (for obs-fold).
absl::Status CheckRequestFraming(const boost::beast::http::request_header<>& header,
                                 std::string_view block);

}  // namespace cinfer::http
