// TokenAuthenticator: the routing stage for AuthScope::kApiToken. Reads the
// API token from "Authorization: Bearer" or "X-Access-Token", asks the
// TokenService to authorise the request (for the route's model when the path
// has one) and stores the ApiCaller in request.identity. Decorate adds the
// X-RateLimit-* and X-Quota-* headers to every response of an identified
// token, and WWW-Authenticate to 401s. Thread-safe.
#pragma once

#include <memory>

#include "http/router.h"
#include "tokens/token_service.h"

namespace cinfer::api {

class TokenAuthenticator final : public http::Authenticator {
 public:
  explicit TokenAuthenticator(TokenService* tokens) : tokens_(tokens) {}
  absl::Status Authenticate(http::Request& request) override;
  void Decorate(const http::Request& request, http::Response& response) override;

 private:
  TokenService* tokens_;
};

// The caller TokenAuthenticator identified; nullptr when none.
ApiCaller* CallerOf(const http::Request& request);

}  // namespace cinfer::api
