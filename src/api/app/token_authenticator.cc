#include "api/app/token_authenticator.h"

#include "api/admin_authenticator.h"
#include "common/errors.h"
#include "common/strings.h"

namespace cinfer::api {
namespace {

using CallerPtr = std::shared_ptr<ApiCaller>;

std::string_view PresentedToken(const http::Request& request) {
  if (auto bearer = BearerToken(request); bearer.has_value()) return *bearer;
  if (auto header = request.Header("x-access-token"); header.has_value()) return Trim(*header);
  return {};
}

int64_t CeilSeconds(std::chrono::nanoseconds d) {
  return std::max<int64_t>(0, std::chrono::ceil<std::chrono::seconds>(d).count());
}

}  // namespace

absl::Status TokenAuthenticator::Authenticate(http::Request& request) {
  auto caller = std::make_shared<ApiCaller>();
  auto it = request.path_params.find("id");
  const std::string* model_id = it == request.path_params.end() ? nullptr : &it->second;
  absl::Status st =
      tokens_->Authorize(PresentedToken(request), request.client_ip, model_id, caller.get());
  if (model_id != nullptr) request.log_fields.emplace_back("model_id", *model_id);
  if (caller->entry != nullptr) {
    request.log_fields.emplace_back("token_id", caller->token_id);
    request.identity = CallerPtr(std::move(caller));
  }
  return st;
}

void TokenAuthenticator::Decorate(const http::Request& request, http::Response& response) {
  const ApiCaller* caller = CallerOf(request);
  if (caller == nullptr) {
    if (response.status == 401)
      response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"cinfer\"");
    return;
  }
  if (caller->rate.has_value()) {
    const auto& r = *caller->rate;
    response.headers.emplace_back("X-RateLimit-Limit", std::to_string(r.limit));
    response.headers.emplace_back("X-RateLimit-Remaining", std::to_string(r.remaining));
    response.headers.emplace_back("X-RateLimit-Reset", std::to_string(CeilSeconds(r.reset)));
  }
  if (auto q = tokens_->Quota(*caller); q.has_value()) {
    response.headers.emplace_back("X-Quota-Limit", std::to_string(q->limit));
    response.headers.emplace_back("X-Quota-Remaining", std::to_string(q->remaining));
    response.headers.emplace_back("X-Quota-Reset", std::to_string(q->reset.count()));
  }
}

ApiCaller* CallerOf(const http::Request& request) {
  const auto* p = std::any_cast<CallerPtr>(&request.identity);
  return p == nullptr ? nullptr : p->get();
}

}  // namespace cinfer::api
