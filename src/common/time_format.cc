#include "common/time_format.h"

#include <ctime>

#include "absl/time/time.h"
#include "fmt/format.h"

namespace cinfer {
namespace {

std::tm UtcTm(Clock::TimePoint t) {
  std::time_t secs = static_cast<std::time_t>(
      std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count());
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

}  // namespace

std::string FormatIso8601(Clock::TimePoint t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  if (ms < 0 && ms % 1000 != 0) --secs;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ((ms % 1000) + 1000) % 1000);
}

std::optional<Clock::TimePoint> ParseRfc3339(std::string_view text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(text), &t, &err)) return std::nullopt;
  // Clock::TimePoint counts nanoseconds in 64 bits (1677..2262): a time outside
  // would be saturated, i.e. silently changed.
  if (t > absl::FromChrono(Clock::TimePoint::max()) ||
      t < absl::FromChrono(Clock::TimePoint::min())) {
    return std::nullopt;
  }
  return absl::ToChronoTime(t);
}

std::string UtcMonth(Clock::TimePoint t) {
  const std::tm tm = UtcTm(t);
  return fmt::format("{:04}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1);
}

std::string UtcDay(Clock::TimePoint t) {
  const std::tm tm = UtcTm(t);
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

Clock::TimePoint NextUtcMonthStart(Clock::TimePoint t) {
  std::tm tm = UtcTm(t);
  std::tm next{};
  next.tm_year = tm.tm_mon == 11 ? tm.tm_year + 1 : tm.tm_year;
  next.tm_mon = (tm.tm_mon + 1) % 12;
  next.tm_mday = 1;
  return Clock::TimePoint(std::chrono::seconds(timegm(&next)));
}

}  // namespace cinfer
