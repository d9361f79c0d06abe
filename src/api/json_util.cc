#include "api/json_util.h"

#include <algorithm>
#include <charconv>

#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cinfer::api {

absl::StatusOr<nlohmann::json> ParseJsonObject(const http::Request& request) {
  auto json = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return InvalidJsonError("request body is not valid JSON");
  if (!json.is_object()) return InvalidJsonError("request body must be a JSON object");
  return json;
}

absl::Status OnlyFields(const nlohmann::json& body, std::initializer_list<std::string_view> known,
                        std::string_view list) {
  for (const auto& [key, value] : body.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return FieldValidationError(key, StrCat("unknown field '", key, "' (", list, ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RequiredString(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) {
    return ValidationError(StrCat("field '", key, "' is required and must be a string"));
  }
  return it->get<std::string>();
}

absl::StatusOr<int64_t> PositiveParam(const http::Request& request, const char* name,
                                      int64_t fallback, int64_t max) {
  auto value = request.QueryParam(name);
  if (!value.has_value()) return fallback;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(value->data(), value->data() + value->size(), v);
  if (ec != std::errc() || p != value->data() + value->size() || v < 1 || v > max) {
    return MakeError(ErrorCode::kBadRequest,
                     StrCat("query parameter '", name, "' must be an integer from 1 to ", max));
  }
  return v;
}

http::Response JsonResponse(int status, const nlohmann::json& body) {
  return http::Response::Json(status,
                              body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

absl::StatusOr<Page> PageParams(const http::Request& request, int64_t default_size,
                                int64_t max_size) {
  Page p;
  ASSIGN_OR_RETURN(p.page, PositiveParam(request, "page", 1, 1'000'000));
  ASSIGN_OR_RETURN(p.size, PositiveParam(request, "page_size", default_size, max_size));
  return p;
}

http::Response PagedResponse(nlohmann::json items, int64_t total, const Page& page) {
  return JsonResponse(200, {{"items", std::move(items)},
                            {"total", total},
                            {"page", page.page},
                            {"page_size", page.size}});
}

}  // namespace cinfer::api
