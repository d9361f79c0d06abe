// Request / Response: the transport-independent HTTP message types handlers
// see, so handlers are unit-testable without sockets. Plain data.
#pragma once

#include <any>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cinfer::http {

struct Request {
  std::string method;                                      // "GET", "POST", ...
  std::string path;                                        // without the query string
  std::vector<std::pair<std::string, std::string>> query;  // percent-decoded
  std::map<std::string, std::string> headers;              // lowercase names
  std::string body;
  std::string body_file;  // routes with body_to_file: the body, spooled to this file
  std::string client_ip;  // the socket peer, or the client a trusted proxy names
  std::string request_id;
  std::map<std::string, std::string> path_params;  // filled by the router
  // Set by the route's authentication stage (e.g. an admin Principal).
  std::any identity;
  // Extra access-log fields (server.log_format: json) set by authenticators and
  // handlers: token_id, model_id, ... Never a credential.
  std::vector<std::pair<std::string, std::string>> log_fields;

  std::optional<std::string_view> Header(std::string_view lowercase_name) const;
  std::optional<std::string_view> QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // Serialises `json_text` (already JSON) with the given status.
  static Response Json(int status, std::string json_text);
  static Response NoContent();
  static Response Text(int status, std::string content_type, std::string body);
};

// Splits "a=1&b=x%20y" into decoded pairs.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);
// Decodes %XX escapes (and '+' as space when `plus_as_space`). False on bad escapes.
bool PercentDecode(std::string_view in, bool plus_as_space, std::string* out);

}  // namespace cinfer::http
