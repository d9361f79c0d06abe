// The model lifecycle state machine (design document §6.1). ModelLifecycle is
// the one place that decides which transitions are legal; everything that
// changes a model's status asks it first. Stateless functions; thread-safe.
//
// Legal transitions:
//   draft        --publish-->     loading
//   unpublished  --publish-->     loading
//   failed       --publish-->     loading
//   published    --restart-->     loading      (startup reload of published models)
//   loading      --loaded-->      published
//   loading      --load_failed--> failed
//   published    --unpublish-->   draining     (no new requests; in-flight ones finish)
//   draining     --drained-->     unpublished
//   published    --load_failed--> failed       (its file vanished or broke while serving)
// Deleting is allowed in draft, unpublished and failed only; activating another
// version in every state but loading and draining. At start-up, a model stopped in
// `draining` is finished with `drained`, one stopped in `loading` with `load_failed`.
#pragma once

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"

namespace cinfer {

enum class ModelState { kDraft, kLoading, kPublished, kDraining, kUnpublished, kFailed };
enum class ModelEvent { kPublish, kRestart, kLoaded, kLoadFailed, kUnpublish, kDrained };

std::string_view ModelStateName(ModelState state);  // "draft", "loading", ...
std::optional<ModelState> ModelStateFromName(std::string_view name);
std::string_view ModelEventName(ModelEvent event);  // "publish", ...

class ModelLifecycle {
 public:
  // The state after `event`, or FailedPrecondition (409, MODEL_STATE_CONFLICT)
  // naming the current state and the refused action.
  static absl::StatusOr<ModelState> Next(ModelState from, ModelEvent event);
  // OK when a model in `state` may be deleted; 409 MODEL_STATE_CONFLICT otherwise.
  static absl::Status CheckDeletable(ModelState state);
  // OK when another version of a model in `state` may be made current (not while it
  // is loading or draining); 409 MODEL_STATE_CONFLICT otherwise.
  static absl::Status CheckActivatable(ModelState state);
};

}  // namespace cinfer
