#include "net/ip_address.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cinfer::net {
namespace {

using ::testing::HasSubstr;

IpAddress Addr(std::string_view text) {
  std::optional<IpAddress> a = ParseIpAddress(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress{});
}

std::string Canonical(std::string_view text) {
  std::optional<IpAddress> a = ParseIpAddress(text);
  return a ? a->ToString() : "<none>";
}

IpNetwork Net(std::string_view text) {
  absl::StatusOr<IpNetwork> n = ParseIpNetwork(text);
  EXPECT_TRUE(n.ok()) << text << ": " << n.status();
  return n.value_or(IpNetwork{});
}

IpSet Set(const std::vector<std::string>& entries) {
  absl::StatusOr<IpSet> s = IpSet::Parse(entries);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.value_or(IpSet{});
}

TEST(IpAddressTest, ParsesIpv4) {
  IpAddress a = Addr("192.168.1.20");
  EXPECT_TRUE(a.v4);
  EXPECT_EQ(a.bytes[0], 192);
  EXPECT_EQ(a.bytes[1], 168);
  EXPECT_EQ(a.bytes[2], 1);
  EXPECT_EQ(a.bytes[3], 20);
  for (size_t i = 4; i < 16; ++i) EXPECT_EQ(a.bytes[i], 0) << i;
  EXPECT_EQ(a.ToString(), "192.168.1.20");
  EXPECT_EQ(Canonical("0.0.0.0"), "0.0.0.0");
  EXPECT_EQ(Canonical("255.255.255.255"), "255.255.255.255");
  EXPECT_EQ(Canonical("  10.0.0.1\t\n"), "10.0.0.1");  // surrounding whitespace ignored
}

TEST(IpAddressTest, RejectsMalformedIpv4) {
  // inet_pton(AF_INET) takes exactly four decimal parts of 0..255. Parts with
  // a leading zero ("01", historically octal for inet_aton) are rejected, as
  // are hex parts and the short forms inet_aton would accept ("1.2.3").
  for (std::string_view bad :
       {"1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "01.2.3.4", "1.2.3.04", "0x1.2.3.4",
        "1.2.3.4.", ".1.2.3.4", "1.2.3.4:80", "1.2.3.-4", "1. 2.3.4", "host", "localhost", "",
        "   ", "[1.2.3.4]", "1.2.3.4%eth0", "1.2.3.4/32"}) {
    EXPECT_FALSE(ParseIpAddress(bad).has_value()) << "'" << bad << "'";
  }
  // inet_pton reads a C string; an embedded NUL must not hide trailing text.
  EXPECT_FALSE(ParseIpAddress(std::string_view("1.2.3.4\0x", 9)).has_value());
  EXPECT_FALSE(ParseIpAddress(std::string_view("1.2.3.4\0", 8)).has_value());
}

TEST(IpAddressTest, ParsesIpv6) {
  IpAddress a = Addr("2001:DB8:0:0:0:0:0:1");
  EXPECT_FALSE(a.v4);
  EXPECT_EQ(a.bytes[0], 0x20);
  EXPECT_EQ(a.bytes[1], 0x01);
  EXPECT_EQ(a.bytes[15], 0x01);
  EXPECT_EQ(a.ToString(), "2001:db8::1");  // RFC 5952: lower case, longest zero run as ::
  EXPECT_EQ(Canonical("::1"), "::1");
  EXPECT_EQ(Canonical("::"), "::");
  EXPECT_EQ(Canonical("2001:db8:0:1:0:0:0:1"), "2001:db8:0:1::1");
  EXPECT_EQ(Canonical("[2001:db8::1]"), "2001:db8::1");
  EXPECT_EQ(Canonical(" [::1] "), "::1");
  EXPECT_EQ(Canonical("fe80::1%eth0"), "fe80::1");  // zone ignored
  EXPECT_EQ(Canonical("[fe80::1%25]"), "fe80::1");
  EXPECT_EQ(Addr("fe80::1%eth0"), Addr("fe80::1"));
}

TEST(IpAddressTest, RejectsMalformedIpv6) {
  for (std::string_view bad : {"1::2::3", "12345::", "2001:db8:0:0:0:0:0:1:2", "2001:db8::g",
                               "::1/", "[::1", "::1]", "[]", "[::1]:80", "::1%", "fe80::1%eth 0",
                               "fe80::1%a%b", "::ffff:1.2.3", "::ffff:01.2.3.4", "[ ::1]", ":::"}) {
    EXPECT_FALSE(ParseIpAddress(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(IpAddressTest, MappedIpv6IsIpv4) {
  IpAddress a = Addr("::ffff:10.1.2.3");
  EXPECT_TRUE(a.v4);
  EXPECT_EQ(a, Addr("10.1.2.3"));
  EXPECT_EQ(a.ToString(), "10.1.2.3");
  EXPECT_EQ(Addr("::ffff:0a01:0203"), Addr("10.1.2.3"));  // hex form
  EXPECT_EQ(Addr("::FFFF:10.1.2.3"), Addr("10.1.2.3"));
  EXPECT_EQ(Addr("[::ffff:10.1.2.3]"), Addr("10.1.2.3"));
  EXPECT_EQ(Addr("0:0:0:0:0:ffff:10.1.2.3"), Addr("10.1.2.3"));
  // Other embeddings stay IPv6 (only ::ffff:0:0/96 is IPv4-mapped).
  EXPECT_FALSE(Addr("::10.1.2.3").v4);
  EXPECT_FALSE(Addr("64:ff9b::10.1.2.3").v4);
  EXPECT_FALSE(Addr("::fffe:10.1.2.3").v4);
}

TEST(IpNetworkTest, ParsesNetworks) {
  IpNetwork n = Net("10.0.0.0/8");
  EXPECT_TRUE(n.base.v4);
  EXPECT_EQ(n.prefix, 8);
  EXPECT_EQ(n.ToString(), "10.0.0.0/8");
  EXPECT_EQ(Net("2001:db8::/32").ToString(), "2001:db8::/32");
  EXPECT_EQ(Net("2001:DB8:0::/32").ToString(), "2001:db8::/32");
  EXPECT_EQ(Net(" 10.0.0.0/8 ").ToString(), "10.0.0.0/8");
  EXPECT_EQ(Net("[2001:db8::]/32").ToString(), "2001:db8::/32");
  EXPECT_EQ(Net("0.0.0.0/0").ToString(), "0.0.0.0/0");
  EXPECT_EQ(Net("::/0").ToString(), "::/0");
  // A single address.
  EXPECT_EQ(Net("10.1.2.3").ToString(), "10.1.2.3/32");
  EXPECT_EQ(Net("::1").ToString(), "::1/128");
  EXPECT_EQ(Net("10.1.2.3/32").ToString(), "10.1.2.3/32");
  EXPECT_EQ(Net("2001:db8::1/128").ToString(), "2001:db8::1/128");
}

TEST(IpNetworkTest, ClearsHostBits) {
  EXPECT_EQ(Net("10.1.2.3/8").ToString(), "10.0.0.0/8");
  EXPECT_EQ(Net("10.1.2.3/8").base, Addr("10.0.0.0"));
  EXPECT_EQ(Net("192.168.1.255/23").ToString(), "192.168.0.0/23");
  EXPECT_EQ(Net("10.1.2.3/0").ToString(), "0.0.0.0/0");
  EXPECT_EQ(Net("10.1.2.3/31").ToString(), "10.1.2.2/31");
  EXPECT_EQ(Net("2001:db8:abcd:1234::1/32").ToString(), "2001:db8::/32");
  EXPECT_EQ(Net("2001:db8:ffff::/33").ToString(), "2001:db8:8000::/33");
  EXPECT_EQ(Net("2001:db8::ffff/127").ToString(), "2001:db8::fffe/127");
}

TEST(IpNetworkTest, MappedHostsAreIpv4) {
  IpNetwork n = Net("::ffff:10.1.2.3");
  EXPECT_TRUE(n.base.v4);
  EXPECT_EQ(n.ToString(), "10.1.2.3/32");
  EXPECT_EQ(Net("::ffff:10.1.2.3/128").ToString(), "10.1.2.3/32");
  EXPECT_EQ(Net("::ffff:0a01:0203/128").ToString(), "10.1.2.3/32");
}

TEST(IpNetworkTest, RefusesMappedRangesAndZones) {
  // ::ffff:0:0/96 used to become 0.0.0.0/0 (every IPv4 client): a mapped range
  // must be written as IPv4 instead.
  for (std::string_view bad :
       {"::ffff:0.0.0.0/96", "::ffff:0:0/96", "::ffff:10.0.0.0/104", "::ffff:10.1.2.3/127",
        "::ffff:10.0.0.0/95", "::ffff:10.0.0.0/8", "::ffff:10.0.0.0/129"}) {
    auto net = ParseIpNetwork(bad);
    EXPECT_FALSE(net.ok()) << bad << " -> " << net->ToString();
  }
  EXPECT_THAT(std::string(ParseIpNetwork("::ffff:0:0/96").status().message()),
              ::testing::HasSubstr("as IPv4"));
  // A zone names an interface the whitelist cannot check.
  for (std::string_view bad : {"fe80::1%eth0", "fe80::%eth0/64", "[fe80::1%1]"}) {
    auto net = ParseIpNetwork(bad);
    EXPECT_FALSE(net.ok()) << bad << " -> " << net->ToString();
  }
  EXPECT_TRUE(ParseIpNetwork("fe80::/64").ok());
}

TEST(IpNetworkTest, RejectsMalformedNetworks) {
  // Prefixes are strict decimal: digits only, no sign, no spaces, no leading
  // zero (except "0" itself).
  for (std::string_view bad : {"",
                               "/8",
                               "10.0.0.0/",
                               "::1/",
                               "10.0.0.0/33",
                               "10.0.0.0/-1",
                               "10.0.0.0/+8",
                               "10.0.0.0/ 8",
                               "10.0.0.0 /8",
                               "10.0.0.0/8 /8",
                               "10.0.0.0/8/8",
                               "10.0.0.0/08",
                               "10.0.0.0/8a",
                               "10.0.0.0/0x8",
                               "10.0.0.0/99999999999999999999",
                               "2001:db8::/129",
                               "2001:db8::/1000",
                               "10.0.0.300/8",
                               "host/8",
                               "10.0.0/8",
                               "[2001:db8::/32]",
                               "10.0.0.0/8,10.0.0.0/9"}) {
    absl::StatusOr<IpNetwork> n = ParseIpNetwork(bad);
    EXPECT_FALSE(n.ok()) << "'" << bad << "' -> " << n->ToString();
    if (!n.ok()) {
      EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(std::string(n.status().message()), HasSubstr("'" + std::string(bad) + "'"));
    }
  }
}

TEST(IpNetworkTest, ContainsAtBoundaries) {
  IpNetwork ten = Net("10.0.0.0/8");
  EXPECT_TRUE(ten.Contains(Addr("10.0.0.0")));
  EXPECT_TRUE(ten.Contains(Addr("10.255.255.255")));
  EXPECT_TRUE(ten.Contains(Addr("::ffff:10.1.2.3")));
  EXPECT_FALSE(ten.Contains(Addr("11.0.0.0")));
  EXPECT_FALSE(ten.Contains(Addr("9.255.255.255")));
  EXPECT_FALSE(ten.Contains(Addr("::ffff:11.0.0.0")));

  IpNetwork odd = Net("192.168.0.0/23");
  EXPECT_TRUE(odd.Contains(Addr("192.168.1.255")));
  EXPECT_FALSE(odd.Contains(Addr("192.168.2.0")));

  IpNetwork host = Net("10.1.2.3");
  EXPECT_TRUE(host.Contains(Addr("10.1.2.3")));
  EXPECT_FALSE(host.Contains(Addr("10.1.2.4")));

  IpNetwork any4 = Net("0.0.0.0/0");
  EXPECT_TRUE(any4.Contains(Addr("0.0.0.0")));
  EXPECT_TRUE(any4.Contains(Addr("255.255.255.255")));
  EXPECT_TRUE(any4.Contains(Addr("::ffff:1.2.3.4")));
  EXPECT_FALSE(any4.Contains(Addr("::1")));  // false across families
  EXPECT_FALSE(any4.Contains(Addr("::")));

  IpNetwork any6 = Net("::/0");
  EXPECT_TRUE(any6.Contains(Addr("::")));
  EXPECT_TRUE(any6.Contains(Addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(any6.Contains(Addr("0.0.0.0")));
  EXPECT_FALSE(any6.Contains(Addr("::ffff:1.2.3.4")));  // that is IPv4

  IpNetwork doc = Net("2001:db8::/32");
  EXPECT_TRUE(doc.Contains(Addr("2001:db8::")));
  EXPECT_TRUE(doc.Contains(Addr("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(doc.Contains(Addr("2001:db9::")));
  EXPECT_FALSE(doc.Contains(Addr("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(doc.Contains(Addr("32.1.13.184")));  // the same first bytes, IPv4

  IpNetwork v6_host = Net("2001:db8::1");
  EXPECT_TRUE(v6_host.Contains(Addr("2001:db8::1")));
  EXPECT_FALSE(v6_host.Contains(Addr("2001:db8::2")));
}

TEST(IpSetTest, ParseAndContains) {
  IpSet s = Set({"10.0.0.0/8", " 2001:db8::/32", "192.168.1.1"});
  EXPECT_FALSE(s.empty());
  ASSERT_EQ(s.networks().size(), 3u);
  EXPECT_EQ(s.networks()[1].ToString(), "2001:db8::/32");
  EXPECT_TRUE(s.Contains("10.9.8.7"));
  EXPECT_TRUE(s.Contains("::ffff:10.9.8.7"));
  EXPECT_TRUE(s.Contains("[2001:db8::5]"));
  EXPECT_TRUE(s.Contains("192.168.1.1"));
  EXPECT_FALSE(s.Contains("192.168.1.2"));
  EXPECT_FALSE(s.Contains("2001:db9::"));
  EXPECT_FALSE(s.Contains("not an address"));
  EXPECT_FALSE(s.Contains(""));
  EXPECT_FALSE(s.Contains("10.0.0.0/8"));  // a network is not an address

  IpSet none = Set({});
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none.Contains("10.0.0.1"));
  EXPECT_TRUE(IpSet().empty());
}

TEST(IpSetTest, ParseNamesTheBadEntry) {
  absl::StatusOr<IpSet> s = IpSet::Parse({"10.0.0.0/8", "10.0.0.300/8", "nope"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  // Callers prefix the field: "ip_whitelist " + message.
  EXPECT_EQ(s.status().message(), "entry '10.0.0.300/8' is not an IP address or CIDR range");

  s = IpSet::Parse({"10.0.0.0/33"});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("'10.0.0.0/33'"));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("0..32"));
}

TEST(ResolveClientIpTest, UntrustedPeerIgnoresHeaders) {
  IpSet trusted = Set({"10.0.0.0/8"});
  EXPECT_EQ(ResolveClientIp("203.0.113.9", "1.2.3.4", std::nullopt, trusted), "203.0.113.9");
  EXPECT_EQ(ResolveClientIp("203.0.113.9", std::nullopt, "1.2.3.4", trusted), "203.0.113.9");
  EXPECT_EQ(ResolveClientIp("203.0.113.9", "1.2.3.4, 10.0.0.2", "5.6.7.8", trusted), "203.0.113.9");
  // No trusted proxies at all.
  EXPECT_EQ(ResolveClientIp("10.0.0.1", "1.2.3.4", "5.6.7.8", IpSet()), "10.0.0.1");
  // The result is canonical.
  EXPECT_EQ(ResolveClientIp("::ffff:203.0.113.9", "1.2.3.4", std::nullopt, trusted), "203.0.113.9");
  EXPECT_EQ(ResolveClientIp("2001:DB8:0::1", std::nullopt, std::nullopt, trusted), "2001:db8::1");
}

TEST(ResolveClientIpTest, UnparsablePeerIsReturnedUnchanged) {
  IpSet trusted = Set({"0.0.0.0/0", "::/0"});
  EXPECT_EQ(ResolveClientIp("unix:/run/cinfer.sock", "1.2.3.4", std::nullopt, trusted),
            "unix:/run/cinfer.sock");
  EXPECT_EQ(ResolveClientIp("", "1.2.3.4", std::nullopt, trusted), "");
}

TEST(ResolveClientIpTest, TrustedPeerWalksForwardedForRightToLeft) {
  IpSet trusted = Set({"10.0.0.0/8"});
  EXPECT_EQ(ResolveClientIp("10.0.0.1", "1.2.3.4, 10.0.0.2", std::nullopt, trusted), "1.2.3.4");
  EXPECT_EQ(ResolveClientIp("10.0.0.1", "1.2.3.4", std::nullopt, trusted), "1.2.3.4");
  // A spoofed left part is not believed: the first untrusted address from the
  // right is the client.
  EXPECT_EQ(
      ResolveClientIp("10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.3,10.0.0.2", std::nullopt, trusted),
      "1.2.3.4");
  // All trusted: the leftmost.
  EXPECT_EQ(ResolveClientIp("10.0.0.1", "10.0.0.9, 10.0.0.2", std::nullopt, trusted), "10.0.0.9");
  // Canonical forms of the walked addresses.
  EXPECT_EQ(ResolveClientIp("10.0.0.1", " ::ffff:1.2.3.4 ", std::nullopt, trusted), "1.2.3.4");
  EXPECT_EQ(ResolveClientIp("10.0.0.1", "[2001:DB8::7], 10.0.0.2", std::nullopt, trusted),
            "2001:db8::7");
  // X-Real-IP is ignored when X-Forwarded-For is present.
  EXPECT_EQ(ResolveClientIp("10.0.0.1", "1.2.3.4", "5.6.7.8", trusted), "1.2.3.4");
}

TEST(ResolveClientIpTest, MalformedEntryEndsTheWalk) {
  IpSet trusted = Set({"10.0.0.0/8"});
  // The last address walked before the malformed entry.
  EXPECT_EQ(ResolveClientIp("10.0.0.1", "1.2.3.4, garbage, 10.0.0.2", std::nullopt, trusted),
            "10.0.0.2");
  EXPECT_EQ(
      ResolveClientIp("10.0.0.1", "1.2.3.4, 10.0.0.3, 1.2.3.4:80, 10.0.0.2", std::nullopt, trusted),
      "10.0.0.2");
  // Nothing walked: the peer.
  EXPECT_EQ(ResolveClientIp("10.0.0.1", "1.2.3.4, garbage", std::nullopt, trusted), "10.0.0.1");
  EXPECT_EQ(ResolveClientIp("10.0.0.1", "1.2.3.4,", std::nullopt, trusted), "10.0.0.1");
  // An empty X-Forwarded-For is present (X-Real-IP not consulted) but malformed.
  EXPECT_EQ(ResolveClientIp("10.0.0.1", "", "5.6.7.8", trusted), "10.0.0.1");
  // The malformed entry left of the client is never reached.
  EXPECT_EQ(ResolveClientIp("10.0.0.1", "garbage, 1.2.3.4", std::nullopt, trusted), "1.2.3.4");
}

TEST(ResolveClientIpTest, RealIpWithoutForwardedFor) {
  IpSet trusted = Set({"10.0.0.0/8"});
  EXPECT_EQ(ResolveClientIp("10.0.0.1", std::nullopt, "1.2.3.4", trusted), "1.2.3.4");
  EXPECT_EQ(ResolveClientIp("10.0.0.1", std::nullopt, " ::ffff:1.2.3.4 ", trusted), "1.2.3.4");
  EXPECT_EQ(ResolveClientIp("10.0.0.1", std::nullopt, "not-an-ip", trusted), "10.0.0.1");
  EXPECT_EQ(ResolveClientIp("10.0.0.1", std::nullopt, "1.2.3.4, 5.6.7.8", trusted), "10.0.0.1");
  EXPECT_EQ(ResolveClientIp("10.0.0.1", std::nullopt, std::nullopt, trusted), "10.0.0.1");
}

TEST(ResolveClientIpTest, Ipv6AndMappedPeers) {
  IpSet trusted = Set({"10.0.0.0/8", "::1", "2001:db8::/32"});
  EXPECT_EQ(ResolveClientIp("::1", "1.2.3.4", std::nullopt, trusted), "1.2.3.4");
  EXPECT_EQ(ResolveClientIp("2001:db8::5", "2001:db8::9, 2001:db8::6", std::nullopt, trusted),
            "2001:db8::9");
  EXPECT_EQ(ResolveClientIp("2001:db8::5", "2a00::1, 2001:db8::6", std::nullopt, trusted),
            "2a00::1");
  EXPECT_EQ(ResolveClientIp("2a00::5", "1.2.3.4", std::nullopt, trusted), "2a00::5");
  // A mapped peer is IPv4: trusted by 10.0.0.0/8.
  EXPECT_EQ(ResolveClientIp("::ffff:10.0.0.1", "1.2.3.4", std::nullopt, trusted), "1.2.3.4");
  EXPECT_EQ(ResolveClientIp("[::ffff:10.0.0.1]", std::nullopt, "1.2.3.4", trusted), "1.2.3.4");
  // Mapped forwarded entries are trusted proxies too.
  EXPECT_EQ(ResolveClientIp("::ffff:10.0.0.1", "1.2.3.4, ::ffff:10.0.0.7", std::nullopt, trusted),
            "1.2.3.4");
  // ::1 is not ::ffff:127.0.0.1 / 127.0.0.1.
  EXPECT_EQ(ResolveClientIp("127.0.0.1", "1.2.3.4", std::nullopt, trusted), "127.0.0.1");
}

}  // namespace
}  // namespace cinfer::net
