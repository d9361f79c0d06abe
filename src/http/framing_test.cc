#include "http/framing.h"

#include <gtest/gtest.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <string>

#include "common/errors.h"

namespace cinfer::http {
namespace {

namespace bhttp = boost::beast::http;

// Parses the header block of `raw` as the server does and checks its framing.
absl::Status Check(const std::string& raw) {
  bhttp::request_parser<bhttp::string_body> parser;
  boost::beast::error_code ec;
  const size_t end = HeaderBlockEnd(raw);
  EXPECT_NE(end, std::string::npos) << raw;
  parser.put(boost::asio::buffer(raw.data(), end), ec);
  if (ec) return absl::InvalidArgumentError("beast: " + ec.message());
  EXPECT_TRUE(parser.is_header_done());
  return CheckRequestFraming(parser.get(), std::string_view(raw).substr(0, end));
}

TEST(FramingTest, HeaderBlockEnd) {
  EXPECT_EQ(HeaderBlockEnd("GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY"), 27u);
  EXPECT_EQ(HeaderBlockEnd("GET / HTTP/1.1\r\nHost: a\r\n"), std::string::npos);
  EXPECT_EQ(HeaderBlockEnd(""), std::string::npos);
}

TEST(FramingTest, ObsFold) {
  EXPECT_TRUE(HasObsFold("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"));
  EXPECT_TRUE(HasObsFold("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n"));
  EXPECT_FALSE(HasObsFold("GET / HTTP/1.1\r\nX: a b\r\nY:\tc\r\n\r\n"));
}

TEST(FramingTest, OrdinaryRequestsPass) {
  EXPECT_TRUE(Check("GET / HTTP/1.1\r\nHost: a\r\n\r\n").ok());
  EXPECT_TRUE(Check("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n").ok());
  EXPECT_TRUE(Check("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n").ok());
  EXPECT_TRUE(Check("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked \r\n\r\n").ok());
  EXPECT_TRUE(Check("GET / HTTP/1.0\r\n\r\n").ok());  // Host is optional in 1.0
}

TEST(FramingTest, EveryOtherTransferCodingIsRefused) {
  for (const char* te : {"xchunked", "chunked, identity", "gzip", "identity", "", "gzip, chunked",
                         "chunked, chunked", "chunkedx"}) {
    const std::string raw =
        std::string("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ") + te + "\r\n\r\n";
    absl::Status st = Check(raw);
    EXPECT_FALSE(st.ok()) << te;
    if (!st.ok() && st.message().find("beast") == std::string_view::npos) {
      EXPECT_EQ(ErrorCodeOf(st), "BAD_REQUEST") << te;
    }
  }
}

TEST(FramingTest, AmbiguousFramingIsRefused) {
  const char* cases[] = {
      // obs-fold, which Beast would join into the previous field
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nX-Long: a\r\n\tb\r\n\r\n",
      // Host: none, or two
      "GET / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
      // duplicate Content-Length, even when equal (Beast accepts equal ones)
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n",
      // Transfer-Encoding in HTTP/1.0, twice, or beside Content-Length
      "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
  };
  for (const char* raw : cases) EXPECT_FALSE(Check(raw).ok()) << raw;
}

}  // namespace
}  // namespace cinfer::http
