#include "net/ip_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "common/strings.h"

namespace cinfer::net {
namespace {

struct Parsed {
  IpAddress address;
  bool mapped = false;  // written as IPv4-mapped IPv6 (::ffff:a.b.c.d)
  bool zoned = false;   // had a %zone suffix
};

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// An interface name or number: non-empty printable ASCII without spaces or
// the characters that delimit addresses, prefixes and lists.
bool ValidZone(std::string_view zone) {
  if (zone.empty()) return false;
  return std::all_of(zone.begin(), zone.end(), [](char c) {
    return c > ' ' && c < 0x7f && c != '%' && c != '/' && c != '[' && c != ']' && c != ',';
  });
}

// Parses an address with no surrounding whitespace: dotted quad, IPv6 (with
// an optional zone), or bracketed IPv6 ("[...]").
std::optional<Parsed> ParseStrict(std::string_view text) {
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    if (text.size() < 2 || text.back() != ']') return std::nullopt;
    text = text.substr(1, text.size() - 2);
    bracketed = true;
  }
  // inet_pton reads a C string: an embedded NUL would end it early.
  if (text.empty() || text.find('\0') != std::string_view::npos) return std::nullopt;
  bool zoned = false;
  if (size_t pct = text.find('%'); pct != std::string_view::npos) {
    if (!ValidZone(text.substr(pct + 1))) return std::nullopt;
    text = text.substr(0, pct);
    zoned = true;
  }
  std::string c_text(text);
  Parsed out;
  out.zoned = zoned;
  if (!bracketed && !zoned) {
    in_addr v4{};
    if (inet_pton(AF_INET, c_text.c_str(), &v4) == 1) {
      out.address.v4 = true;
      std::memcpy(out.address.bytes.data(), &v4, 4);
      return out;
    }
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, c_text.c_str(), &v6) != 1) return std::nullopt;
  static_assert(sizeof(v6) == 16);
  std::memcpy(out.address.bytes.data(), &v6, 16);
  if (std::equal(std::begin(kMappedPrefix), std::end(kMappedPrefix), out.address.bytes.begin())) {
    out.mapped = true;
    out.address.v4 = true;
    std::copy(out.address.bytes.begin() + 12, out.address.bytes.end(), out.address.bytes.begin());
    std::fill(out.address.bytes.begin() + 4, out.address.bytes.end(), uint8_t{0});
    return out;
  }
  out.address.v4 = false;
  return out;
}

// Strict decimal: digits only, no sign, no leading zero (except "0" itself),
// at most three digits.
std::optional<int> ParsePrefix(std::string_view text) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  if (text.size() > 1 && text.front() == '0') return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// True when the first `prefix` bits of a and b are equal.
bool SamePrefix(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int prefix) {
  int full = prefix / 8;
  for (int i = 0; i < full; ++i) {
    if (a[i] != b[i]) return false;
  }
  int rest = prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

void ClearHostBits(IpAddress& a, int prefix) {
  int total = a.v4 ? 4 : 16;
  for (int i = 0; i < total; ++i) {
    int bits = std::clamp(prefix - i * 8, 0, 8);
    a.bytes[i] &= static_cast<uint8_t>(0xff00 >> bits);
  }
}

absl::Status NotAnAddress(std::string_view entry, std::string_view detail = {}) {
  return absl::InvalidArgumentError(
      StrCat("'", entry, "' is not an IP address or CIDR range", detail));
}

}  // namespace

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof(buf)) == nullptr) return {};
  return buf;
}

std::optional<IpAddress> ParseIpAddress(std::string_view text) {
  std::optional<Parsed> parsed = ParseStrict(Trim(text));
  if (!parsed) return std::nullopt;
  return parsed->address;
}

bool IpNetwork::Contains(const IpAddress& a) const {
  if (a.v4 != base.v4) return false;
  return SamePrefix(a.bytes, base.bytes, prefix);
}

std::string IpNetwork::ToString() const { return StrCat(base.ToString(), "/", prefix); }

absl::StatusOr<IpNetwork> ParseIpNetwork(std::string_view text) {
  std::string_view trimmed = Trim(text);
  size_t slash = trimmed.find('/');
  std::optional<Parsed> parsed = ParseStrict(trimmed.substr(0, slash));
  if (!parsed) return NotAnAddress(text);
  // A zone names an interface, which a whitelist cannot check: refuse it
  // rather than silently drop it.
  if (parsed->zoned) return NotAnAddress(text, " (zone suffixes like %eth0 are not allowed)");
  IpNetwork net;
  net.base = parsed->address;
  int max_prefix = net.base.v4 ? 32 : 128;
  if (slash == std::string_view::npos) {
    net.prefix = max_prefix;
    return net;
  }
  std::optional<int> prefix = ParsePrefix(trimmed.substr(slash + 1));
  if (!prefix) return NotAnAddress(text);
  if (parsed->mapped) {
    // ::ffff:0:0/96 would silently allow every IPv4 client: an IPv4-mapped
    // address is accepted as one host (/128) only; ranges are written as IPv4.
    if (*prefix != 128) {
      return NotAnAddress(text,
                          " (write IPv4-mapped ranges as IPv4, e.g. 10.0.0.0/8; only /128 is "
                          "accepted on an IPv4-mapped address)");
    }
    *prefix = 32;
  } else if (*prefix > max_prefix) {
    return NotAnAddress(text, StrCat(" (prefix must be 0..", max_prefix, ")"));
  }
  net.prefix = *prefix;
  ClearHostBits(net.base, net.prefix);
  return net;
}

absl::StatusOr<IpSet> IpSet::Parse(const std::vector<std::string>& entries) {
  IpSet set;
  set.networks_.reserve(entries.size());
  for (const std::string& entry : entries) {
    absl::StatusOr<IpNetwork> net = ParseIpNetwork(entry);
    if (!net.ok()) {
      return absl::InvalidArgumentError(StrCat("entry ", net.status().message()));
    }
    set.networks_.push_back(*net);
  }
  return set;
}

bool IpSet::Contains(const IpAddress& a) const {
  return std::any_of(networks_.begin(), networks_.end(),
                     [&](const IpNetwork& n) { return n.Contains(a); });
}

bool IpSet::Contains(std::string_view address) const {
  std::optional<IpAddress> a = ParseIpAddress(address);
  return a && Contains(*a);
}

std::string ResolveClientIp(std::string_view peer, std::optional<std::string_view> forwarded_for,
                            std::optional<std::string_view> real_ip, const IpSet& trusted_proxies) {
  std::optional<IpAddress> peer_address = ParseIpAddress(peer);
  if (!peer_address) return std::string(peer);
  if (!trusted_proxies.Contains(*peer_address)) return peer_address->ToString();
  if (forwarded_for) {
    IpAddress last = *peer_address;
    std::vector<std::string_view> hops = Split(*forwarded_for, ',');
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
      std::optional<IpAddress> hop = ParseIpAddress(*it);
      if (!hop) break;  // malformed: the last address walked
      last = *hop;
      if (!trusted_proxies.Contains(*hop)) break;  // the client
    }
    return last.ToString();
  }
  if (real_ip) {
    if (std::optional<IpAddress> a = ParseIpAddress(*real_ip)) return a->ToString();
  }
  return peer_address->ToString();
}

}  // namespace cinfer::net
