#include "models/model_lifecycle.h"

#include "common/errors.h"
#include "common/strings.h"

namespace cinfer {
namespace {

struct Transition {
  ModelState from;
  ModelEvent event;
  ModelState to;
};

constexpr Transition kTransitions[] = {
    {ModelState::kDraft, ModelEvent::kPublish, ModelState::kLoading},
    {ModelState::kUnpublished, ModelEvent::kPublish, ModelState::kLoading},
    {ModelState::kFailed, ModelEvent::kPublish, ModelState::kLoading},
    {ModelState::kPublished, ModelEvent::kRestart, ModelState::kLoading},
    {ModelState::kLoading, ModelEvent::kLoaded, ModelState::kPublished},
    {ModelState::kLoading, ModelEvent::kLoadFailed, ModelState::kFailed},
    {ModelState::kPublished, ModelEvent::kUnpublish, ModelState::kDraining},
    {ModelState::kDraining, ModelEvent::kDrained, ModelState::kUnpublished},
    {ModelState::kPublished, ModelEvent::kLoadFailed, ModelState::kFailed},
};

constexpr std::pair<ModelState, std::string_view> kStateNames[] = {
    {ModelState::kDraft, "draft"},
    {ModelState::kLoading, "loading"},
    {ModelState::kPublished, "published"},
    {ModelState::kDraining, "draining"},
    {ModelState::kUnpublished, "unpublished"},
    {ModelState::kFailed, "failed"},
};

constexpr std::pair<ModelEvent, std::string_view> kEventNames[] = {
    {ModelEvent::kPublish, "publish"},     {ModelEvent::kRestart, "restart"},
    {ModelEvent::kLoaded, "loaded"},       {ModelEvent::kLoadFailed, "load_failed"},
    {ModelEvent::kUnpublish, "unpublish"}, {ModelEvent::kDrained, "drained"},
};

absl::Status Conflict(ModelState state, std::string_view action) {
  return WithDetails(
      MakeError(ErrorCode::kModelStateConflict,
                StrCat("cannot ", action, " a model in state '", ModelStateName(state), "'")),
      StrCat("{\"state\":\"", ModelStateName(state), "\"}"));
}

}  // namespace

std::string_view ModelStateName(ModelState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "unknown";
}

std::optional<ModelState> ModelStateFromName(std::string_view name) {
  for (const auto& [s, n] : kStateNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

std::string_view ModelEventName(ModelEvent event) {
  for (const auto& [e, name] : kEventNames) {
    if (e == event) return name;
  }
  return "unknown";
}

absl::StatusOr<ModelState> ModelLifecycle::Next(ModelState from, ModelEvent event) {
  for (const auto& t : kTransitions) {
    if (t.from == from && t.event == event) return t.to;
  }
  return Conflict(from, ModelEventName(event));
}

absl::Status ModelLifecycle::CheckDeletable(ModelState state) {
  if (state == ModelState::kDraft || state == ModelState::kUnpublished ||
      state == ModelState::kFailed) {
    return absl::OkStatus();
  }
  return Conflict(state, "delete");
}

absl::Status ModelLifecycle::CheckActivatable(ModelState state) {
  if (state == ModelState::kLoading || state == ModelState::kDraining) {
    return Conflict(state, "activate a version of");
  }
  return absl::OkStatus();
}

}  // namespace cinfer
