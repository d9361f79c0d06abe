// The reads of one HttpServer connection, over its plain or TLS stream: the raw
// header block (checked before Beast parses it), a bounded body, and the drain
// of a refused request's body. Coroutine templates for HttpServer's sessions;
// http_server.cc is their only user (the fuzz build skips it, and this header
// with it). Not thread-safe: one coroutine per connection, on its strand.
#pragma once

// clang-format off
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it
// clang-format on

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/errors.h"
#include "common/strings.h"
#include "http/framing.h"

namespace cinfer::http::connection_io {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;

inline constexpr size_t kMaxDrainBytes = 64 * 1024 * 1024;
inline constexpr auto kDrainTimeout = std::chrono::seconds(5);

// An awaitable completion token that stores the error in `ec` instead of throwing.
inline auto Ec(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

template <class Stream>
asio::awaitable<void> Drain(Stream& stream) {
  // The client may still be sending a body we refused; read and discard it so
  // it sees our response instead of a connection reset.
  auto& sock = beast::get_lowest_layer(stream).socket();
  error_code ec;
  sock.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  beast::get_lowest_layer(stream).expires_after(kDrainTimeout);
  std::vector<char> scratch(64 * 1024);
  size_t total = 0;
  while (!ec && total < kMaxDrainBytes) {
    total +=
        co_await beast::get_lowest_layer(stream).async_read_some(asio::buffer(scratch), Ec(ec));
  }
}

// Reads until `buffer` holds a whole header block, or `limit` bytes of one (Beast then
// answers header_limit), so the raw block can be checked before it is parsed.
template <class Stream>
asio::awaitable<size_t> ReadHeaderBlock(Stream& stream, beast::flat_buffer& buffer, size_t limit,
                                        error_code& ec) {
  while (true) {
    const std::string_view have(static_cast<const char*>(buffer.data().data()), buffer.size());
    const size_t end = HeaderBlockEnd(have);
    if (end != std::string_view::npos) co_return end;
    if (have.size() >= limit || have.find("\n\n") != std::string_view::npos) {
      co_return std::string_view::npos;  // let Beast's parser say what is wrong
    }
    const size_t n = co_await stream.async_read_some(
        buffer.prepare(std::max<size_t>(1024, limit - have.size())), Ec(ec));
    buffer.commit(n);
    if (ec) co_return std::string_view::npos;
  }
}

// Reads the body with `parser` within `timeout`: nullopt when complete, a refusal (413,
// 400) when the body is too large or malformed; *broken when the connection failed.
template <class Stream, class Parser>
asio::awaitable<std::optional<absl::Status>> ReadBody(Stream& stream, beast::flat_buffer& buffer,
                                                      Parser& parser, size_t limit,
                                                      std::chrono::seconds timeout, bool* broken) {
  size_t chunks = 0;
  auto count_chunks = [&chunks](std::uint64_t, std::string_view, error_code& ec) {
    if (++chunks > kMaxChunksPerBody) ec = bhttp::error::bad_chunk;
  };
  parser.on_chunk_header(count_chunks);
  parser.body_limit(limit);
  beast::get_lowest_layer(stream).expires_after(timeout);
  error_code ec;
  co_await bhttp::async_read(stream, buffer, parser, Ec(ec));
  if (!ec) co_return std::nullopt;
  if (ec == bhttp::error::body_limit) {
    co_return PayloadTooLargeError(StrCat("request body exceeds ", limit, " bytes"));
  }
  if (chunks > kMaxChunksPerBody) {
    co_return MakeError(ErrorCode::kBadRequest, StrCat("malformed HTTP request: more than ",
                                                       kMaxChunksPerBody, " chunks in one body"));
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_chunk).category() &&
      ec != bhttp::error::partial_message && ec != bhttp::error::end_of_stream) {
    co_return MakeError(ErrorCode::kBadRequest,
                        StrCat("malformed HTTP request body: ", ec.message()));
  }
  *broken = true;  // timed out, reset or closed mid-body: nobody to answer
  co_return std::nullopt;
}

}  // namespace cinfer::http::connection_io
