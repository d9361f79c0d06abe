// Admin API-token routes under /api/v1/internal/tokens (admin JWT): create
// (the value is answered once), list, get, PATCH, pause, resume, reset-usage,
// delete and per-day / per-model usage. See docs/TOKENS.md.
#pragma once

#include <vector>

#include "http/router.h"
#include "tokens/token_service.h"

namespace cinfer::api {

void AddTokenRoutes(TokenService* tokens, std::vector<http::Route>& routes);

}  // namespace cinfer::api
