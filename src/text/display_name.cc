#include "text/display_name.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uspoof.h>
#include <unicode/utf8.h>

#include <memory>

#include "common/errors.h"
#include "common/strings.h"

namespace cinfer::text {
namespace {

absl::Status Refused(std::string_view field, std::string_view rule) {
  return ValidationError(StrCat("'", field, "' ", rule));
}

bool IsForbidden(UChar32 c) {
  const int8_t type = u_charType(c);
  return type == U_CONTROL_CHAR || type == U_FORMAT_CHAR || c == '/' || c == '\\';
}

struct SpoofCloser {
  void operator()(USpoofChecker* sc) const { uspoof_close(sc); }
};
using SpoofChecker = std::unique_ptr<USpoofChecker, SpoofCloser>;

SpoofChecker OpenChecker() {
  UErrorCode status = U_ZERO_ERROR;
  SpoofChecker sc(uspoof_open(&status));
  if (U_FAILURE(status)) return nullptr;
  uspoof_setChecks(sc.get(), USPOOF_CONFUSABLE, &status);
  return U_FAILURE(status) ? nullptr : std::move(sc);
}

// The confusable skeleton of `name` (UTF-8), or the name itself when ICU
// cannot compute one.
std::string Skeleton(const USpoofChecker* sc, std::string_view name) {
  if (sc == nullptr) return std::string(name);
  UErrorCode status = U_ZERO_ERROR;
  std::string out(name.size() * 4 + 16, '\0');
  int32_t n = uspoof_getSkeletonUTF8(sc, 0, name.data(), static_cast<int32_t>(name.size()),
                                     out.data(), static_cast<int32_t>(out.size()), &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    status = U_ZERO_ERROR;
    out.assign(static_cast<size_t>(n) + 1, '\0');
    n = uspoof_getSkeletonUTF8(sc, 0, name.data(), static_cast<int32_t>(name.size()), out.data(),
                               static_cast<int32_t>(out.size()), &status);
  }
  if (U_FAILURE(status)) return std::string(name);
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

absl::StatusOr<std::string> NormalizeDisplayName(std::string_view name, std::string_view field,
                                                 int max_chars) {
  if (name.size() > static_cast<size_t>(max_chars) * 4) {
    return Refused(field, StrCat("must be 1 to ", max_chars, " characters"));
  }
  // Valid UTF-8 first: ICU would replace bad bytes with U+FFFD silently.
  int32_t chars = 0;
  for (int32_t i = 0, n = static_cast<int32_t>(name.size()); i < n; ++chars) {
    UChar32 c = 0;
    U8_NEXT(reinterpret_cast<const uint8_t*>(name.data()), i, n, c);
    if (c < 0) return Refused(field, "is not valid UTF-8");
    if (IsForbidden(c)) {
      return Refused(field,
                     "must not contain control or invisible formatting characters (such as "
                     "bidi overrides or zero-width spaces), '/' or '\\'");
    }
  }
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) return absl::InternalError("Unicode normalisation is unavailable");
  const icu::UnicodeString normalized =
      nfc->normalize(icu::UnicodeString::fromUTF8(
                         icu::StringPiece(name.data(), static_cast<int32_t>(name.size()))),
                     status);
  if (U_FAILURE(status)) return Refused(field, "cannot be normalised (NFC)");
  std::string out;
  normalized.toUTF8String(out);
  chars = normalized.countChar32();
  if (chars == 0 || chars > max_chars) {
    return Refused(field, StrCat("must be 1 to ", max_chars, " characters"));
  }
  if (u_isUWhiteSpace(normalized.char32At(0)) ||
      u_isUWhiteSpace(normalized.char32At(normalized.length() - 1))) {
    return Refused(field, "must not start or end with whitespace");
  }
  if (out.find_first_not_of('.') == std::string::npos) {
    return Refused(field, "must not consist of dots only");
  }
  return out;
}

std::optional<std::string> FindConfusable(std::string_view name,
                                          const std::vector<std::string>& existing) {
  const SpoofChecker sc = OpenChecker();
  const std::string key = Skeleton(sc.get(), name);
  for (const std::string& other : existing) {
    if (other == name || Skeleton(sc.get(), other) == key) return other;
  }
  return std::nullopt;
}

}  // namespace cinfer::text
