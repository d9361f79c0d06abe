// The state of an API token (design document §6.4), derived in this one place
// from what is stored: expiry, the pause flag and this month's usage. Nothing
// stores a state; every view (admin API, enforcement) calls DeriveTokenState.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/clock.h"

namespace cinfer {

enum class TokenState { kActive, kPaused, kExpired, kExceeded };

struct TokenStateInputs {
  bool is_active = true;  // false: paused by an administrator
  std::optional<Clock::TimePoint> expires_at;
  std::optional<int64_t> monthly_limit;
  int64_t used_this_month = 0;
};

// expired (expires_at <= now) → paused → exceeded (used >= limit) → active.
TokenState DeriveTokenState(const TokenStateInputs& in, Clock::TimePoint now);
std::string_view TokenStateName(TokenState state);
std::optional<TokenState> ParseTokenState(std::string_view name);

}  // namespace cinfer
