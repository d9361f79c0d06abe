#include "models/serving_registry.h"

#include <thread>

#include "common/errors.h"
#include "spdlog/spdlog.h"

namespace cinfer {

ServedModel::~ServedModel() {
  if (model != nullptr) spdlog::info("released model {} version {}", model_id, version);
}

std::string_view ServingStateName(const ServedModel& m) {
  if (m.scheduler == nullptr) return "ready";
  return ServingStateOf(m.scheduler->Instances());
}

ServingRegistry::ServingRegistry() : snapshot_(std::make_shared<const Map>()) {}

std::shared_ptr<const ServingRegistry::Map> ServingRegistry::Snapshot() const {
  MutexLock lock(&snapshot_mu_);
  return snapshot_;
}

void ServingRegistry::Swap(std::shared_ptr<const Map> next) {
  MutexLock lock(&snapshot_mu_);
  snapshot_.swap(next);
  // The old snapshot is released here, after the lock (`next` now holds it).
}

std::shared_ptr<const ServedModel> ServingRegistry::Find(std::string_view model_id) const {
  std::shared_ptr<const Map> snap = Snapshot();
  auto it = snap->find(model_id);
  return it == snap->end() ? nullptr : it->second;
}

std::shared_ptr<const ServedModel> ServingRegistry::Put(std::shared_ptr<const ServedModel> served) {
  MutexLock lock(&writers_);
  auto next = std::make_shared<Map>(*Snapshot());
  std::shared_ptr<const ServedModel> previous;
  auto& slot = (*next)[served->model_id];
  previous = std::move(slot);
  slot = std::move(served);
  Swap(std::move(next));
  return previous;
}

std::shared_ptr<const ServedModel> ServingRegistry::Remove(std::string_view model_id) {
  MutexLock lock(&writers_);
  auto next = std::make_shared<Map>(*Snapshot());
  auto it = next->find(model_id);
  if (it == next->end()) return nullptr;
  std::shared_ptr<const ServedModel> previous = std::move(it->second);
  next->erase(it);
  Swap(std::move(next));
  return previous;
}

std::vector<std::shared_ptr<const ServedModel>> ServingRegistry::All() const {
  std::shared_ptr<const Map> snap = Snapshot();
  std::vector<std::shared_ptr<const ServedModel>> out;
  for (const auto& [id, served] : *snap) out.push_back(served);
  return out;
}

bool WaitForDrain(const std::weak_ptr<const ServedModel>& released,
                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!released.expired()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

size_t ServingRegistry::CancelQueued() const {
  const absl::Status shutting_down =
      WithRetryAfter(MakeError(ErrorCode::kShuttingDown, "the server is shutting down"), 1);
  size_t cancelled = 0;
  for (const auto& served : All()) {
    if (served->scheduler != nullptr) cancelled += served->scheduler->CancelQueued(shutting_down);
  }
  return cancelled;
}

}  // namespace cinfer
