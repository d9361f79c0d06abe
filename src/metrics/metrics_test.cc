#include "metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace cinfer {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, HttpRequestsCountByRouteMethodAndStatus) {
  Metrics m;
  m.HttpRequest("/api/v1/models/{id}", "GET", 200, 0.002);
  m.HttpRequest("/api/v1/models/{id}", "GET", 200, 0.004);
  m.HttpRequest("/api/v1/models/{id}", "GET", 404, 0.001);
  const std::string text = m.Render(Metrics::Format::kPrometheus);
  EXPECT_THAT(text, HasSubstr("cinfer_http_requests_total{method=\"GET\",route=\"/api/v1/models/"
                              "{id}\",status=\"200\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("status=\"404\"} 1\n"));
  // One latency histogram per route and method: three observations.
  EXPECT_THAT(text, HasSubstr("cinfer_http_request_duration_seconds_count{method=\"GET\",route="
                              "\"/api/v1/models/{id}\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_http_request_duration_seconds_bucket{method=\"GET\",route="
                              "\"/api/v1/models/{id}\",le=\"0.0025\"} 2\n"));
}

TEST(MetricsTest, InferenceStagesAreObservedForSuccessesAndErrorsCountedByCode) {
  Metrics m;
  Metrics::Inference ok{.model_id = "m1",
                        .version = 2,
                        .queue = 0.001,
                        .preprocess = 0.002,
                        .engine = 0.02,
                        .postprocess = 0.001,
                        .total = 0.024,
                        .batch_size = 4};
  m.InferenceDone(ok);
  Metrics::Inference failed = ok;
  failed.error_code = "QUEUE_FULL";
  m.InferenceDone(failed);
  const std::string text = m.Render(Metrics::Format::kPrometheus);
  EXPECT_THAT(text, HasSubstr("cinfer_inference_requests_total{model_id=\"m1\","
                              "version=\"2\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_inference_errors_total{code=\"QUEUE_FULL\","
                              "model_id=\"m1\",version=\"2\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_inference_duration_seconds_count{model_id="
                              "\"m1\",stage=\"engine\",version=\"2\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_inference_duration_seconds_sum{model_id="
                              "\"m1\",stage=\"total\",version=\"2\"} 0.024\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_inference_batch_size_bucket{model_id=\"m1\","
                              "version=\"2\",le=\"2\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_inference_batch_size_bucket{model_id=\"m1\","
                              "version=\"2\",le=\"4\"} 1\n"));
}

TEST(MetricsTest, LoadsRefusalsAndCommits) {
  Metrics m;
  m.ModelLoad("m1", 1.5, true);
  m.ModelLoad("m1", 0.1, false);
  m.TokenRefused("rate");
  m.TokenRefused("rate");
  m.TokenRefused("ip");
  m.UsageCommit(true, 0.003);
  m.UsageCommit(false, 0.25);
  const std::string text = m.Render(Metrics::Format::kPrometheus);
  EXPECT_THAT(text, HasSubstr("cinfer_model_load_duration_seconds_count{model_id="
                              "\"m1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_model_load_failures_total{model_id=\"m1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_token_refusals_total{reason=\"rate\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_token_refusals_total{reason=\"ip\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_usage_commits_total{result=\"ok\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_usage_commits_total{result=\"error\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_usage_commit_duration_seconds_count 2\n"));
}

TEST(MetricsTest, CollectorsAreReadAtEachScrape) {
  Metrics m;
  int depth = 3;
  m.AddCollector([&](std::vector<MetricSnapshot>& out) {
    out.push_back({"cinfer_queue_depth",
                   "Requests waiting",
                   MetricSnapshot::Type::kGauge,
                   {{{{"model", "a\"b"}}, static_cast<double>(depth)}}});
  });
  EXPECT_THAT(m.Render(Metrics::Format::kPrometheus),
              HasSubstr("cinfer_queue_depth{model=\"a\\\"b\"} 3\n"));
  depth = 5;
  EXPECT_THAT(m.Render(Metrics::Format::kPrometheus),
              HasSubstr("cinfer_queue_depth{model=\"a\\\"b\"} 5\n"));
}

TEST(MetricsTest, OpenMetricsNamesCounterFamiliesWithoutTotalAndEndsWithEof) {
  Metrics m;
  m.TokenRefused("quota");
  m.UsageCommit(true, 0.001);
  const std::string text = m.Render(Metrics::Format::kOpenMetrics);
  EXPECT_THAT(text, HasSubstr("# TYPE cinfer_token_refusals counter\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_token_refusals_total{reason=\"quota\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE cinfer_usage_commit_duration_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("cinfer_usage_commit_duration_seconds_bucket{le=\"+Inf\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("# TYPE cinfer_token_refusals_total")));
  ASSERT_GE(text.size(), 6u);
  EXPECT_EQ(text.substr(text.size() - 6), "# EOF\n");
}

TEST(MetricsTest, FamiliesAreDeclaredBeforeTheirFirstSample) {
  Metrics m;
  const std::string text = m.Render(Metrics::Format::kPrometheus);
  EXPECT_THAT(text, HasSubstr("# TYPE cinfer_model_load_failures_total counter\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE cinfer_inference_duration_seconds histogram\n"));
  EXPECT_THAT(text, Not(HasSubstr("cinfer_model_load_failures_total{")));
}

TEST(MetricsTest, TheAcceptHeaderChoosesTheFormat) {
  EXPECT_EQ(Metrics::FormatFor(""), Metrics::Format::kPrometheus);
  EXPECT_EQ(Metrics::FormatFor("text/plain;version=0.0.4"), Metrics::Format::kPrometheus);
  EXPECT_EQ(Metrics::FormatFor("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"),
            Metrics::Format::kOpenMetrics);
  EXPECT_THAT(std::string(Metrics::ContentType(Metrics::Format::kOpenMetrics)),
              HasSubstr("application/openmetrics-text"));
}

}  // namespace
}  // namespace cinfer
