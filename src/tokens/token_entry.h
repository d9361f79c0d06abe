// TokenService's per-token cache entry and the parsed settings it holds.
// Internal to the tokens module: shared by token_service.cc (the cache,
// authorisation and quota) and token_admin.cc (administration).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "net/ip_address.h"
#include "storage/database.h"
#include "tokens/sliding_window.h"

namespace cinfer {

// The parsed, immutable settings of one token. Replaced as a whole on change.
struct TokenPolicy {
  TokenRecord record;
  bool any_model = false;
  std::set<std::string, std::less<>> models;
  net::IpSet whitelist;
  std::optional<Clock::TimePoint> expires_at;
};

struct TokenEntry {
  // A new entry, not yet shared (so its fields need no lock here).
  TokenEntry(std::shared_ptr<const TokenPolicy> policy, std::string month, int64_t committed,
             std::optional<std::string> last_used_at)
      : policy(std::move(policy)),
        month(std::move(month)),
        committed(committed),
        last_used_at(std::move(last_used_at)) {}

  Mutex mu;
  std::shared_ptr<const TokenPolicy> policy ABSL_GUARDED_BY(mu);
  SlidingWindow window ABSL_GUARDED_BY(mu);
  std::string month ABSL_GUARDED_BY(mu);      // the month `committed` counts
  int64_t committed ABSL_GUARDED_BY(mu) = 0;  // durable units in `month`
  int64_t reserved ABSL_GUARDED_BY(mu) = 0;   // units held by requests in flight
  std::optional<std::string> last_used_at ABSL_GUARDED_BY(mu);
};

// The policy of a stored record: an error when its ip_whitelist or
// expires_at does not parse (DATA_LOSS for the latter).
absl::StatusOr<std::shared_ptr<const TokenPolicy>> PolicyOf(const TokenRecord& record);

}  // namespace cinfer
