// The rules for names people give models and API tokens. Names stay free text
// in any script (Chinese names keep working), but:
//   - they are NFC-normalised (the stored form);
//   - they hold no control or format characters (Unicode Cc and Cf: bidi
//     overrides, zero-width spaces and joiners...), no '/' or '\', no leading
//     or trailing whitespace, and are not made of dots only ("." "..");
//   - they are 1 to `max_chars` code points long.
// Two names are the same name when their UTS #39 confusable skeletons are
// equal (ICU's spoof checker): "сls" with a Cyrillic "с" is "cls".
// Stateless functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cinfer::text {

// The NFC form of `name`, or VALIDATION_FAILED naming `field` and the rule.
absl::StatusOr<std::string> NormalizeDisplayName(std::string_view name, std::string_view field,
                                                 int max_chars = 128);

// The first of `existing` that is confusable with `name` (equal skeletons),
// or nullopt. Names that are not valid UTF-8 are compared byte for byte.
std::optional<std::string> FindConfusable(std::string_view name,
                                          const std::vector<std::string>& existing);

}  // namespace cinfer::text
