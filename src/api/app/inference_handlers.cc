#include "api/app/inference_handlers.h"

#include <charconv>
#include <cmath>

#include "api/app/token_authenticator.h"
#include "api/json_util.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "http/error_response.h"
#include "http/multipart.h"

namespace cinfer::api {
namespace {

using http::Request;
using http::Response;
using Result = absl::StatusOr<Response>;

absl::Status Unsupported(std::string_view type) {
  return MakeError(ErrorCode::kUnsupportedMediaType,
                   StrCat("unsupported content type '", type,
                          "': send multipart/form-data with an 'image' part, an image body "
                          "(image/jpeg, image/png, image/webp, image/bmp) or JSON"));
}

std::string MediaType(const Request& req) {
  std::string type = ToLower(req.Header("content-type").value_or(""));
  if (auto semi = type.find(';'); semi != std::string::npos) type.resize(semi);
  return std::string(Trim(type));
}

bool IsImageType(std::string_view type) {
  return type == "image/jpeg" || type == "image/jpg" || type == "image/png" ||
         type == "image/webp" || type == "image/bmp" || type == "image/x-ms-bmp";
}

absl::StatusOr<double> ParseNumber(std::string_view name, std::string_view text, double lo,
                                   double hi) {
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v) || v < lo ||
      v > hi) {
    return ValidationError(StrCat("parameter '", name, "' must be a number from ", lo, " to ", hi));
  }
  return v;
}

// Applies one parameter given as text (query) or JSON.
absl::Status SetParam(std::string_view name, const nlohmann::json& value, InferenceParams& p) {
  auto text = [&]() -> std::string {
    return value.is_string() ? value.get<std::string>() : value.dump();
  };
  if (name == "score_threshold" || name == "iou_threshold") {
    ASSIGN_OR_RETURN(double v, ParseNumber(name, text(), 0, 1));
    (name == "score_threshold" ? p.post.score_threshold : p.post.iou_threshold) = v;
  } else if (name == "top_k") {
    ASSIGN_OR_RETURN(double v, ParseNumber(name, text(), 1, 1000));
    if (v != std::floor(v)) return ValidationError("parameter 'top_k' must be an integer");
    p.post.top_k = static_cast<int64_t>(v);
  } else if (name == "timeout_ms") {
    ASSIGN_OR_RETURN(double v, ParseNumber(name, text(), 1, 3'600'000));
    p.timeout_ms = static_cast<int64_t>(v);
  } else if (name == "priority") {
    const std::string t = ToLower(text());
    if (t == "low" || t == "0") {
      p.priority = 0;
    } else if (t == "normal" || t == "1") {
      p.priority = 1;
    } else if (t == "high" || t == "2") {
      p.priority = 2;
    } else {
      return ValidationError("parameter 'priority' must be low, normal or high");
    }
  } else if (name == "annotate") {
    const std::string t = ToLower(text());
    if (t == "true" || t == "1") {
      p.annotate = true;
    } else if (t == "false" || t == "0") {
      p.annotate = false;
    } else {
      return ValidationError("parameter 'annotate' must be true or false");
    }
  } else {
    return ValidationError(StrCat("unknown parameter '", name,
                                  "' (score_threshold, iou_threshold, top_k, priority, "
                                  "timeout_ms, annotate)"));
  }
  return absl::OkStatus();
}

constexpr std::string_view kParamNames[] = {"score_threshold", "iou_threshold", "top_k",
                                            "priority",        "timeout_ms",    "annotate"};

absl::StatusOr<InferenceParams> QueryParams(const Request& req) {
  InferenceParams p;
  for (std::string_view name : kParamNames) {
    if (auto v = req.QueryParam(name)) RETURN_IF_ERROR(SetParam(name, std::string(*v), p));
  }
  return p;
}

absl::Status JsonParams(const nlohmann::json& body, InferenceParams& p) {
  auto it = body.find("parameters");
  if (it == body.end()) return absl::OkStatus();
  if (!it->is_object()) return ValidationError("'parameters' must be an object");
  for (const auto& [key, value] : it->items()) RETURN_IF_ERROR(SetParam(key, value, p));
  return absl::OkStatus();
}

absl::StatusOr<std::string> DecodeBase64Image(const nlohmann::json& value, std::string_view what) {
  if (!value.is_string()) return ValidationError(StrCat("'", what, "' must be a base64 string"));
  std::string_view text = value.get_ref<const std::string&>();
  if (text.starts_with("data:")) {
    const size_t comma = text.find(',');
    if (comma == std::string_view::npos ||
        text.substr(0, comma).find(";base64") == std::string_view::npos)
      return ValidationError(StrCat("'", what, "' is a data URI without ';base64,'"));
    text = text.substr(comma + 1);
  }
  std::string bytes;
  if (!Base64Decode(text, &bytes) || bytes.empty())
    return ValidationError(StrCat("'", what, "' is not valid base64"));
  return bytes;
}

// Multipart bodies go through the hardened multipart parser, from memory (the
// body is already there: no spool file, no fsync).
absl::StatusOr<std::vector<http::MultipartPart>> MultipartParts(const Request& req,
                                                                const InferenceRoutesOptions& o) {
  ASSIGN_OR_RETURN(std::string boundary,
                   http::MultipartBoundary(req.Header("content-type").value_or("")));
  http::MultipartLimits limits;
  limits.max_parts = 1024;
  limits.max_file_bytes = o.max_body_bytes;
  return http::ParseMultipart(req.body, boundary, limits);
}

// The inputs of a multipart/form-data request: the image part(s), plus
// parameters given as parts.
absl::StatusOr<std::vector<InferenceInput>> MultipartInputs(const Request& req,
                                                            const InferenceRoutesOptions& o,
                                                            bool batch, InferenceParams& params) {
  std::vector<InferenceInput> inputs;
  ASSIGN_OR_RETURN(auto parts, MultipartParts(req, o));
  RETURN_IF_ERROR(http::RejectDuplicateParts(
      parts, batch ? std::vector<std::string_view>{"images[]", "images", "image"}
                   : std::vector<std::string_view>{"image"}));
  for (auto& p : parts) {
    const bool image_part = batch
                                ? (p.name == "images[]" || p.name == "images" || p.name == "image")
                                : p.name == "image";
    if (image_part) {
      InferenceInput in;
      in.image = std::move(p.value);
      inputs.push_back(std::move(in));
    } else if (std::find(std::begin(kParamNames), std::end(kParamNames), p.name) !=
               std::end(kParamNames)) {
      RETURN_IF_ERROR(SetParam(p.name, p.value, params));
    } else {
      return ValidationError(StrCat("unexpected multipart part '", p.name, "'"));
    }
  }
  if (inputs.empty()) {
    return MakeError(ErrorCode::kBadRequest, batch ? "multipart parts 'images[]' are missing"
                                                   : "multipart part 'image' is missing");
  }
  if (!batch && inputs.size() > 1)
    return ValidationError("send one 'image' part (use /infer/batch for several)");
  return inputs;
}

// The inputs of a JSON body: exactly one of 'image' (base64), 'images' (a
// list of base64, batch only) or 'inputs' (tensors), plus 'parameters'.
absl::StatusOr<std::vector<InferenceInput>> JsonInputs(const Request& req, bool batch,
                                                       InferenceParams& params) {
  std::vector<InferenceInput> inputs;
  ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonObject(req));
  for (const auto& [key, value] : body.items()) {
    if (key != "image" && key != "images" && key != "inputs" && key != "parameters")
      return ValidationError(
          StrCat("unknown field '", key, "' (image, images, inputs, parameters)"));
  }
  RETURN_IF_ERROR(JsonParams(body, params));
  const int given = body.contains("image") + body.contains("images") + body.contains("inputs");
  if (given != 1) return ValidationError("give exactly one of 'image', 'images' or 'inputs'");
  if (body.contains("inputs")) {
    if (batch) return ValidationError("a batch takes 'images'; send tensors to /infer");
    inputs.push_back({"", body["inputs"]});
    if (inputs.back().tensors.is_null()) return ValidationError("'inputs' must be a list");
  } else if (body.contains("image")) {
    if (batch) return ValidationError("a batch takes 'images', a list");
    InferenceInput in;
    ASSIGN_OR_RETURN(in.image, DecodeBase64Image(body["image"], "image"));
    inputs.push_back(std::move(in));
  } else {
    if (!batch) return ValidationError("'images' is for /infer/batch; send 'image'");
    const auto& list = body["images"];
    if (!list.is_array() || list.empty())
      return ValidationError("'images' must be a non-empty list");
    for (size_t i = 0; i < list.size(); ++i) {
      InferenceInput in;
      ASSIGN_OR_RETURN(in.image, DecodeBase64Image(list[i], StrCat("images[", i, "]")));
      inputs.push_back(std::move(in));
    }
  }
  return inputs;
}

// The inputs of a request: `batch` accepts several images.
// An image body is moved out of `req`.
absl::StatusOr<std::vector<InferenceInput>> ReadInputs(Request& req,
                                                       const InferenceRoutesOptions& o, bool batch,
                                                       InferenceParams& params) {
  const std::string type = MediaType(req);
  if (type == "multipart/form-data") return MultipartInputs(req, o, batch, params);
  if (IsImageType(type)) {
    if (batch) return ValidationError("a batch needs multipart 'images[]' parts or JSON 'images'");
    if (req.body.empty()) return ValidationError("the image body is empty");
    std::vector<InferenceInput> inputs;
    inputs.push_back({std::move(req.body), nullptr});
    return inputs;
  }
  if (type == "application/json") return JsonInputs(req, batch, params);
  return Unsupported(type);
}

nlohmann::json ErrorJson(const absl::Status& st) {
  return {{"code", ErrorCodeOf(st)},
          {"status", HttpStatusFor(st)},
          {"message", std::string(ToStd(st.message()))}};
}

nlohmann::json OutcomeJson(const InferenceOutcome& o, bool header) {
  nlohmann::json j = vision::TaskResultToJson(o.result);
  if (header) {
    j["model_id"] = o.model_id;
    j["model_version"] = o.model_version;
    j["task"] = std::string(vision::TaskName(o.result.task));
  }
  j["timing_ms"] = {{"decode", o.timing.decode},           {"queue", o.timing.queue},
                    {"preprocess", o.timing.preprocess},   {"infer", o.timing.infer},
                    {"postprocess", o.timing.postprocess}, {"total", o.timing.total}};
  j["batch_size"] = o.batch_size;
  if (o.annotated_jpeg.has_value()) j["annotated_image"] = Base64Encode(*o.annotated_jpeg);
  return j;
}

RequestContext ContextOf(const Request& req, std::string route) {
  RequestContext ctx;
  ctx.request_id = req.request_id;
  ctx.client_ip = req.client_ip;
  if (const ApiCaller* caller = CallerOf(req)) ctx.token_id = caller->token_id;
  ctx.route = std::move(route);
  return ctx;
}

absl::StatusOr<ApiCaller*> Caller(const Request& req) {
  ApiCaller* caller = CallerOf(req);
  if (caller == nullptr) return absl::InternalError("application route without an API caller");
  return caller;
}

nlohmann::json PublishedJson(const PublishedModel& p) {
  auto io = nlohmann::json::parse(p.record.io_schema, nullptr, false);
  return {{"id", p.record.id},
          {"name", p.record.name},
          {"description", p.record.description},
          {"engine", p.record.engine},
          {"task", std::string(vision::TaskName(p.served->config.output.task))},
          {"version", p.served->version},
          {"io_schema", io.is_discarded() ? nlohmann::json::object() : io},
          {"updated_at", p.record.updated_at}};
}

// After the inference: commits `used` units (the deadline covers the usage
// commit too: a stalled store answers 503 in time), then answers `body`.
void CommitAndRespond(std::shared_ptr<QuotaReservation> quota, int64_t used,
                      std::chrono::steady_clock::time_point deadline, nlohmann::json body,
                      http::Respond respond) {
  QuotaReservation* q = quota.get();
  q->CommitAsync(used, deadline,
                 [quota = std::move(quota), body = std::move(body),
                  respond = std::move(respond)](absl::Status st) {
                   if (!st.ok()) return respond(st);
                   respond(JsonResponse(200, body));
                 });
}

// Single inference: one quota unit, committed before the 200. No thread waits:
// the answer comes from the model's worker (or the usage writer).
void Infer(const AppServices& app, const InferenceRoutesOptions& o, Request& req,
           http::Respond respond) {
  const auto start = std::chrono::steady_clock::now();
  auto started = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(ApiCaller * caller, Caller(req));
    ASSIGN_OR_RETURN(InferenceParams params, QueryParams(req));
    ASSIGN_OR_RETURN(auto inputs, ReadInputs(req, o, /*batch=*/false, params));
    std::string id = req.path_params["id"];
    ASSIGN_OR_RETURN(QuotaReservation reserved, app.tokens->Reserve(*caller, id, 1));
    auto quota = std::make_shared<QuotaReservation>(std::move(reserved));
    const auto deadline = app.inference->DeadlineFrom(params, start);
    // `req` is not touched after this call: the answer may already be on its way.
    app.inference->InferAsync(
        std::move(id), std::move(inputs[0]), std::move(params), ContextOf(req, "infer"),
        [quota = std::move(quota), deadline, respond](InferenceService::Outcome out) mutable {
          if (!out.ok()) {
            quota.reset();  // released before the answer's X-Quota-* headers are computed
            return respond(out.status());
          }
          CommitAndRespond(std::move(quota), 1, deadline, OutcomeJson(*out, /*header=*/true),
                           std::move(respond));
        });
    return absl::OkStatus();
  }();
  if (!started.ok()) respond(started);
}

// Batch: one quota unit per image reserved up front; the successful ones are
// committed before the 200, the rest released.
void InferBatch(const AppServices& app, const InferenceRoutesOptions& o, Request& req,
                http::Respond respond) {
  const auto start = std::chrono::steady_clock::now();
  auto started = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(ApiCaller * caller, Caller(req));
    ASSIGN_OR_RETURN(InferenceParams params, QueryParams(req));
    ASSIGN_OR_RETURN(auto inputs, ReadInputs(req, o, /*batch=*/true, params));
    std::string id = req.path_params["id"];
    ASSIGN_OR_RETURN(QuotaReservation reserved,
                     app.tokens->Reserve(*caller, id, static_cast<int64_t>(inputs.size())));
    auto quota = std::make_shared<QuotaReservation>(std::move(reserved));
    const auto deadline = app.inference->DeadlineFrom(params, start);
    InferenceService* inference = app.inference;
    app.inference->InferBatchAsync(
        id, std::move(inputs), std::move(params), ContextOf(req, "infer/batch"),
        [inference, id, quota = std::move(quota), deadline,
         respond](InferenceService::BatchOutcome outcomes) mutable {
          if (!outcomes.ok()) {
            quota.reset();  // released before the answer's X-Quota-* headers are computed
            return respond(outcomes.status());
          }
          nlohmann::json results = nlohmann::json::array();
          nlohmann::json head = {{"model_id", id}};
          int64_t succeeded = 0;
          for (const auto& r : *outcomes) {
            if (r.ok()) {
              ++succeeded;
              head["model_version"] = r->model_version;
              head["task"] = std::string(vision::TaskName(r->result.task));
              results.push_back(OutcomeJson(*r, /*header=*/false));
            } else {
              results.push_back({{"error", ErrorJson(r.status())}});
            }
          }
          if (!head.contains("model_version")) {
            absl::StatusOr<PublishedModel> p = inference->GetPublished(id);
            if (!p.ok()) {
              quota.reset();
              return respond(p.status());
            }
            head["model_version"] = p->served->version;
            head["task"] = std::string(vision::TaskName(p->served->config.output.task));
          }
          head["results"] = std::move(results);
          CommitAndRespond(std::move(quota), succeeded, deadline, std::move(head),
                           std::move(respond));
        });
    return absl::OkStatus();
  }();
  if (!started.ok()) respond(started);
}

// Async: the unit is committed when the request is accepted, before the 202.
Result InferAsync(const AppServices& app, const InferenceRoutesOptions& o, Request& req) {
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(ApiCaller * caller, Caller(req));
  ASSIGN_OR_RETURN(InferenceParams params, QueryParams(req));
  ASSIGN_OR_RETURN(auto inputs, ReadInputs(req, o, /*batch=*/false, params));
  const std::string id = req.path_params["id"];
  InferenceService* inference = app.inference;
  RETURN_IF_ERROR(inference->GetPublished(id).status());  // 404 now, not later
  ASSIGN_OR_RETURN(QuotaReservation quota, app.tokens->Reserve(*caller, id, 1));
  RequestContext ctx = ContextOf(req, "infer/async");
  const size_t input_bytes = inputs[0].image.size() + inputs[0].tensors.size();
  ASSIGN_OR_RETURN(std::string request_id,
                   app.async->Submit(
                       [inference, id, input = std::move(inputs[0]), params,
                        ctx](AsyncRequests::Finish finish) mutable {
                         // Queued on the model like /infer; nobody waits for it.
                         inference->InferAsync(
                             id, std::move(input), params, ctx,
                             [finish = std::move(finish)](InferenceService::Outcome out) {
                               if (!out.ok()) return finish(out.status());
                               finish(OutcomeJson(*out, /*header=*/true));
                             });
                       },
                       caller->token_id, input_bytes));
  RETURN_IF_ERROR(quota.Commit(1, inference->DeadlineFrom(params, start)));
  return JsonResponse(202, {{"request_id", request_id},
                            {"status", "queued"},
                            {"status_url", StrCat("/api/v1/requests/", request_id)}});
}

Result AsyncResult(AsyncRequests* async, Request& req) {
  ASSIGN_OR_RETURN(ApiCaller * caller, Caller(req));
  const std::string& id = req.path_params["request_id"];
  auto snap = async->Get(id);
  if (!snap.has_value() || snap->owner != caller->token_id) {
    return MakeError(ErrorCode::kRequestNotFound,
                     StrCat("no request '", id, "' (unknown, or its result expired)"));
  }
  nlohmann::json body = {{"request_id", id},
                         {"status", std::string(AsyncRequests::StateName(snap->state))},
                         {"created_at", snap->created_at}};
  switch (snap->state) {
    case AsyncRequests::State::kQueued:
    case AsyncRequests::State::kRunning:
      return JsonResponse(202, body);
    case AsyncRequests::State::kDone:
      body["finished_at"] = snap->finished_at;
      body["result"] = snap->result;
      return JsonResponse(200, body);
    case AsyncRequests::State::kFailed:
      body["finished_at"] = snap->finished_at;
      body["error"] = ErrorJson(snap->error);
      return JsonResponse(200, body);
  }
  return absl::InternalError("unknown async state");
}

}  // namespace

Result TestImage(InferenceService* inference, ModelService* models, const InferenceRoutesOptions& o,
                 Request& req) {
  ASSIGN_OR_RETURN(InferenceParams params, QueryParams(req));
  ASSIGN_OR_RETURN(auto inputs, ReadInputs(req, o, /*batch=*/false, params));
  std::optional<int64_t> version;
  if (auto v = req.QueryParam("version"); v.has_value() && !v->empty()) {
    ASSIGN_OR_RETURN(double n, ParseNumber("version", *v, 1, 1e15));
    if (n != static_cast<double>(static_cast<int64_t>(n)))
      return ValidationError("query parameter 'version' must be a positive integer");
    version = static_cast<int64_t>(n);
  }
  ASSIGN_OR_RETURN(const vision::ImageInfo info, vision::ProbeImage(inputs[0].image));
  ASSIGN_OR_RETURN(TestTarget target, models->AcquireTestTarget(req.path_params["id"], version));
  InFlight counted(*target.handle);
  ASSIGN_OR_RETURN(InferenceOutcome outcome,
                   inference->RunDirect(*target.handle, inputs[0], params));
  nlohmann::json j = OutcomeJson(outcome, /*header=*/true);
  j["source"] = target.served ? "serving" : "loaded";
  j["image"] = {{"width", info.width}, {"height", info.height}};
  j["timing_ms"]["load"] = target.load_ms;
  return JsonResponse(200, j);
}

void AddInferenceRoutes(const AppServices& app, const InferenceRoutesOptions& options,
                        std::vector<http::Route>& routes) {
  using http::AuthScope;
  routes.push_back({"GET", "/api/v1/models", AuthScope::kApiToken, [app](Request& req) -> Result {
                      ASSIGN_OR_RETURN(ApiCaller * caller, Caller(req));
                      ASSIGN_OR_RETURN(auto models, app.inference->ListPublished());
                      nlohmann::json items = nlohmann::json::array();
                      for (const auto& m : models) {
                        if (app.tokens->ModelAllowed(*caller, m.record.id))
                          items.push_back(PublishedJson(m));
                      }
                      const size_t total = items.size();
                      return JsonResponse(200, {{"items", std::move(items)}, {"total", total}});
                    }});
  routes.push_back(
      {"GET", "/api/v1/models/{id}", AuthScope::kApiToken, [app](Request& req) -> Result {
         ASSIGN_OR_RETURN(PublishedModel m, app.inference->GetPublished(req.path_params["id"]));
         return JsonResponse(200, PublishedJson(m));
       }});
  auto add = [&](const std::string& path, http::Handler handler, http::AsyncHandler async) {
    http::Route r{"POST", path, AuthScope::kApiToken, std::move(handler)};
    r.async_handler = std::move(async);
    r.max_body_bytes = options.max_body_bytes;
    routes.push_back(std::move(r));
  };
  add("/api/v1/models/{id}/infer", nullptr, [app, options](Request& req, http::Respond respond) {
    Infer(app, options, req, std::move(respond));
  });
  add("/api/v1/models/{id}/infer/batch", nullptr,
      [app, options](Request& req, http::Respond respond) {
        InferBatch(app, options, req, std::move(respond));
      });
  add(
      "/api/v1/models/{id}/infer/async",
      [app, options](Request& req) { return InferAsync(app, options, req); }, nullptr);
  routes.push_back({"GET", "/api/v1/requests/{request_id}", AuthScope::kApiToken,
                    [async = app.async](Request& req) { return AsyncResult(async, req); }});
}

}  // namespace cinfer::api
