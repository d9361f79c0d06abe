// UTC time text: ISO-8601 formatting of time points ("2026-11-26T13:40:05.123Z"),
// RFC 3339 parsing, and the calendar keys of usage counters.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace cinfer {

std::string FormatIso8601(Clock::TimePoint t);
// RFC 3339 with a "Z" or numeric offset ("2026-12-01T00:00:00Z",
// "2026-12-01T08:00:00.5+08:00"); nullopt otherwise, and for times a
// Clock::TimePoint cannot hold (after 2262-04-11T23:47:16Z or before 1677).
std::optional<Clock::TimePoint> ParseRfc3339(std::string_view text);
// "YYYY-MM" and "YYYY-MM-DD" of `t` in UTC.
std::string UtcMonth(Clock::TimePoint t);
std::string UtcDay(Clock::TimePoint t);
// 00:00:00 UTC on the first day of the month after `t`'s.
Clock::TimePoint NextUtcMonthStart(Clock::TimePoint t);

}  // namespace cinfer
