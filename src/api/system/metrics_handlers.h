// GET /metrics: everything Metrics measures, in the Prometheus text format, or
// OpenMetrics when the Accept header asks for it. Public unless a scrape token
// is configured (metrics.token): then 401 UNAUTHENTICATED without
// `Authorization: Bearer <token>`.
#pragma once

#include <string>
#include <vector>

#include "http/router.h"
#include "metrics/metrics.h"

namespace cinfer::api {

void AddMetricsRoute(const Metrics* metrics, std::string token, std::vector<http::Route>& routes);

}  // namespace cinfer::api
