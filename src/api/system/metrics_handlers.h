// GET /metrics: everything Metrics measures, in the Prometheus text format, or
// OpenMetrics when the Accept header asks for it. Public unless a scrape token
// is configured (metrics.token): then 401 UNAUTHENTICATED without
// `Authorization: Bearer <token>`. With metrics.listen it is served on a
// listener of its own, through a router that has only this route.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "http/router.h"
#include "metrics/metrics.h"

namespace cinfer::api {

void AddMetricsRoute(const Metrics* metrics, std::string token, std::vector<http::Route>& routes);

// The router of the metrics listener: GET /metrics as above; every other path
// 404 NOT_FOUND, other methods on /metrics 405. Its answers are counted in
// `metrics` like the main router's.
std::unique_ptr<http::Router> BuildMetricsRouter(Metrics* metrics, std::string token);

}  // namespace cinfer::api
