#include "tokens/token_state.h"

namespace cinfer {

TokenState DeriveTokenState(const TokenStateInputs& in, Clock::TimePoint now) {
  if (in.expires_at.has_value() && *in.expires_at <= now) return TokenState::kExpired;
  if (!in.is_active) return TokenState::kPaused;
  if (in.monthly_limit.has_value() && in.used_this_month >= *in.monthly_limit)
    return TokenState::kExceeded;
  return TokenState::kActive;
}

std::string_view TokenStateName(TokenState state) {
  switch (state) {
    case TokenState::kActive:
      return "active";
    case TokenState::kPaused:
      return "paused";
    case TokenState::kExpired:
      return "expired";
    case TokenState::kExceeded:
      return "exceeded";
  }
  return "active";
}

std::optional<TokenState> ParseTokenState(std::string_view name) {
  for (TokenState s :
       {TokenState::kActive, TokenState::kPaused, TokenState::kExpired, TokenState::kExceeded}) {
    if (TokenStateName(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace cinfer
