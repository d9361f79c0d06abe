// JSON helpers shared by handlers: body parsing with the right error codes,
// typed field access that names the bad field, and JSON responses.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "http/request.h"
#include "nlohmann/json.hpp"

namespace cinfer::api {

// The request body as a JSON object; INVALID_JSON (400) otherwise.
absl::StatusOr<nlohmann::json> ParseJsonObject(const http::Request& request);
// VALIDATION_FAILED (422) naming the first field of `body` not in `known`
// (`list` spells the known ones for the message).
absl::Status OnlyFields(const nlohmann::json& body, std::initializer_list<std::string_view> known,
                        std::string_view list);
// A string field; VALIDATION_FAILED (422) naming `key` when absent or not a string.
absl::StatusOr<std::string> RequiredString(const nlohmann::json& object, const char* key);
// A paging-style query parameter: `fallback` when absent, else an integer in
// [1, max]; BAD_REQUEST (400) naming the parameter otherwise.
absl::StatusOr<int64_t> PositiveParam(const http::Request& request, const char* name,
                                      int64_t fallback, int64_t max);
http::Response JsonResponse(int status, const nlohmann::json& body);

// The `page` (from 1) and `page_size` (1..max_size) query parameters of a list
// route; BAD_REQUEST (400) naming the parameter when out of range.
struct Page {
  int64_t page = 1;
  int64_t size = 20;
  int64_t offset() const { return (page - 1) * size; }
};
absl::StatusOr<Page> PageParams(const http::Request& request, int64_t default_size,
                                int64_t max_size);
// A list answer: 200 {"items", "total", "page", "page_size"}.
http::Response PagedResponse(nlohmann::json items, int64_t total, const Page& page);

}  // namespace cinfer::api
