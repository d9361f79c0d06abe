// Helpers shared by the fuzz targets (docs/FUZZING.md).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

// Aborts (a crash the fuzzer reports) when an invariant of the code under test does not hold.
// Invalid input is never a reason to abort: only a wrong answer is.
#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

namespace cinfer::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits `text` at the first `sep`: the part before it goes to *head, the rest stays in `text`.
// False (and nothing changed) when there is no `sep`.
inline bool SplitFirst(std::string_view& text, char sep, std::string_view* head) {
  const size_t pos = text.find(sep);
  if (pos == std::string_view::npos) return false;
  *head = text.substr(0, pos);
  text.remove_prefix(pos + 1);
  return true;
}

}  // namespace cinfer::fuzz
