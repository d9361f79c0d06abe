// Fuzzes IP address and CIDR parsing (net/ip_address.h). The input is lines of text.
// Every line is parsed as an address and as a network; what parses must print canonically and
// parse back to the same value, and a network contains its own base address.
// Then lines 0-2 are a peer, X-Forwarded-For and X-Real-IP, the rest the trusted proxies, for
// ResolveClientIp, whose answer is the unparsable peer itself or a canonical address.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/strings.h"
#include "fuzz_check.h"
#include "net/ip_address.h"

namespace {

using namespace cinfer::net;

void CheckLine(std::string_view line) {
  if (std::optional<IpAddress> a = ParseIpAddress(line)) {
    const std::string text = a->ToString();
    FUZZ_CHECK(!text.empty());
    FUZZ_CHECK(ParseIpAddress(text) == a);
  }
  if (auto net = ParseIpNetwork(line); net.ok()) {
    FUZZ_CHECK(net->prefix >= 0 && net->prefix <= (net->base.v4 ? 32 : 128));
    FUZZ_CHECK(net->Contains(net->base));
    auto again = ParseIpNetwork(net->ToString());
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->base == net->base && again->prefix == net->prefix);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string_view> lines = cinfer::Split(cinfer::fuzz::AsText(data, size), '\n');
  if (lines.size() > 64) return 0;
  for (std::string_view line : lines) CheckLine(line);

  auto line = [&](size_t i) -> std::optional<std::string_view> {
    if (i >= lines.size() || lines[i] == "-") return std::nullopt;
    return lines[i];
  };
  std::vector<std::string> proxies;
  for (size_t i = 3; i < lines.size(); ++i) proxies.emplace_back(lines[i]);
  auto trusted = IpSet::Parse(proxies);
  if (!trusted.ok()) return 0;
  const std::string_view peer = line(0).value_or("");
  const std::string client = ResolveClientIp(peer, line(1), line(2), *trusted);
  if (!ParseIpAddress(peer)) {
    FUZZ_CHECK(client == peer);
  } else {
    std::optional<IpAddress> a = ParseIpAddress(client);
    FUZZ_CHECK(a.has_value() && a->ToString() == client);
  }
  return 0;
}
