// IP addresses and networks (CIDR) for token IP whitelists and trusted
// proxies. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are IPv4 addresses
// here, so they match IPv4 rules. Plain values; thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cinfer::net {

struct IpAddress {
  bool v4 = true;
  // IPv4: bytes[0..3]; IPv6: all 16 (network order).
  std::array<uint8_t, 16> bytes{};

  // Canonical text: dotted quad, or RFC 5952 IPv6 (inet_ntop).
  std::string ToString() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// Parses "1.2.3.4", "2001:db8::1", "::ffff:1.2.3.4" (-> IPv4), "[2001:db8::1]"
// and IPv6 with a zone ("fe80::1%eth0", the zone ignored). Surrounding
// whitespace is ignored. nullopt for anything else (no ports, no hostnames).
std::optional<IpAddress> ParseIpAddress(std::string_view text);

struct IpNetwork {
  IpAddress base;  // host bits cleared
  int prefix = 32;

  bool Contains(const IpAddress& a) const;  // false across families
  std::string ToString() const;             // "10.0.0.0/8", "2001:db8::/32"
};

// "10.0.0.0/8", "2001:db8::/32", "::ffff:10.0.0.0/104" (-> 10.0.0.0/8), or a
// single address (/32 or /128). Host bits are cleared ("10.1.2.3/8" ->
// 10.0.0.0/8). InvalidArgument (message naming the entry) for malformed text
// or a prefix out of range.
absl::StatusOr<IpNetwork> ParseIpNetwork(std::string_view text);

// A list of networks.
class IpSet {
 public:
  IpSet() = default;
  // InvalidArgument naming the first malformed entry.
  static absl::StatusOr<IpSet> Parse(const std::vector<std::string>& entries);

  bool empty() const { return networks_.empty(); }
  bool Contains(const IpAddress& a) const;
  // False for text that is not an address.
  bool Contains(std::string_view address) const;
  const std::vector<IpNetwork>& networks() const { return networks_; }

 private:
  std::vector<IpNetwork> networks_;
};

// The client's address. `peer` is the socket peer. When the peer is in
// `trusted_proxies`, X-Forwarded-For is read right to left, skipping addresses
// that are themselves trusted proxies; the first other address is the client
// (a malformed entry ends the walk: the last address walked is used). Without
// X-Forwarded-For, X-Real-IP is used when it is an address. Otherwise, and
// always when the peer is not trusted, the peer. The result is canonical
// (ToString); the peer text is returned unchanged if it does not parse.
std::string ResolveClientIp(std::string_view peer, std::optional<std::string_view> forwarded_for,
                            std::optional<std::string_view> real_ip, const IpSet& trusted_proxies);

}  // namespace cinfer::net
