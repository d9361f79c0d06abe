// Fuzzes HTTP/1.1 request parsing as the server does it (http/http_server.cc): the input is the
// bytes a client sends, fed to a Boost.Beast request_parser<string_body> with the server's
// default header limit; once the header is done, our framing checks (http/framing.h) run on it
// and its raw block, the parts of the header our code reads (target, query, headers) go through
// our helpers, and the body is read with a route-sized limit and the chunk count limit.
// Checked: a header that passes CheckRequestFraming obeys the rules framing.h lists.
#include <algorithm>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <iterator>
#include <limits>

#include "fuzz_check.h"
#include "http/framing.h"
#include "http/request.h"

namespace bhttp = boost::beast::http;

namespace {

constexpr uint32_t kHeaderLimit = 16 * 1024;  // server.max_header_kb default
constexpr uint64_t kBodyLimit = 64 * 1024;    // a route's body limit

// Feeds `bytes` to the parser until it is done (with the header only, when `header_only`, as
// async_read_header), fails or needs more than there is.
void Feed(bhttp::request_parser<bhttp::string_body>& parser, std::string_view& bytes,
          bool header_only, boost::beast::error_code& ec) {
  auto done = [&] { return header_only ? parser.is_header_done() : parser.is_done(); };
  while (!ec && !done() && !bytes.empty()) {
    const size_t used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    bytes.remove_prefix(used);
    if (ec == bhttp::error::need_more) {
      ec = {};
      if (used == 0) break;  // needs more than the input holds
    }
  }
}

size_t CountFields(const bhttp::request_header<>& header, bhttp::field name) {
  const auto range = header.equal_range(name);
  return static_cast<size_t>(std::distance(range.first, range.second));
}

// The rules a header accepted by CheckRequestFraming must obey.
void CheckFramingRules(const bhttp::request_parser<bhttp::string_body>& parser,
                       std::string_view block) {
  const bhttp::request_header<>& header = parser.get();
  const size_t te = CountFields(header, bhttp::field::transfer_encoding);
  const size_t cl = CountFields(header, bhttp::field::content_length);
  FUZZ_CHECK(te <= 1 && cl <= 1 && !(te == 1 && cl == 1));
  if (te == 1) {
    // What was accepted as "chunked" must be what Beast frames the body by.
    FUZZ_CHECK(parser.chunked() && header.version() >= 11);
  }
  const size_t hosts = CountFields(header, bhttp::field::host);
  FUZZ_CHECK(hosts <= 1 && (header.version() < 11 || hosts == 1));
  FUZZ_CHECK(!cinfer::http::HasObsFold(block));
}

void CheckHeader(const bhttp::request_parser<bhttp::string_body>& parser) {
  const auto& msg = parser.get();
  const std::string_view target = msg.target();
  const size_t question = target.find('?');
  if (question != std::string_view::npos) {
    for (const auto& [name, value] : cinfer::http::ParseQuery(target.substr(question + 1))) {
      (void)name;
      (void)value;
    }
  }
  std::string decoded;
  (void)cinfer::http::PercentDecode(target.substr(0, question), false, &decoded);
  for (const auto& field : msg) (void)field.value();
  (void)msg.keep_alive();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = cinfer::fuzz::AsText(data, size);
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(std::numeric_limits<uint64_t>::max());
  // The raw header block, as the server keeps it for the framing checks.
  const std::string_view block =
      bytes.substr(0, std::min(cinfer::http::HeaderBlockEnd(bytes), bytes.size()));
  boost::beast::error_code ec;
  Feed(parser, bytes, /*header_only=*/true, ec);
  if (ec || !parser.is_header_done()) return 0;
  if (!cinfer::http::CheckRequestFraming(parser.get(), block).ok()) return 0;  // 400
  CheckFramingRules(parser, block);
  CheckHeader(parser);
  // Like the server: a declared length over the route's limit is answered 413 unread. (Beast
  // checks Content-Length against body_limit only while parsing the header, and string_body
  // reserves that many bytes.)
  if (parser.content_length().value_or(0) > kBodyLimit) return 0;
  size_t chunks = 0;
  auto count_chunks = [&chunks](uint64_t, std::string_view, boost::beast::error_code& error) {
    if (++chunks > cinfer::http::kMaxChunksPerBody) error = bhttp::error::bad_chunk;
  };
  parser.on_chunk_header(count_chunks);
  parser.body_limit(kBodyLimit);
  Feed(parser, bytes, /*header_only=*/false, ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (!ec && parser.is_done()) FUZZ_CHECK(parser.get().body().size() <= kBodyLimit);
  return 0;
}
