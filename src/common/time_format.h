// ISO-8601 UTC formatting of time points ("2026-11-26T13:40:05.123Z").
#pragma once

#include <string>

#include "common/clock.h"

namespace cinfer {

std::string FormatIso8601(Clock::TimePoint t);

}  // namespace cinfer
