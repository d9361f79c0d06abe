#include "models/model_lifecycle.h"

#include <gtest/gtest.h>

#include "common/errors.h"
#include "common/strings.h"

namespace cinfer {
namespace {

constexpr ModelState kAll[] = {ModelState::kDraft,       ModelState::kLoading,
                               ModelState::kPublished,   ModelState::kDraining,
                               ModelState::kUnpublished, ModelState::kFailed};
constexpr ModelEvent kEvents[] = {ModelEvent::kPublish,   ModelEvent::kRestart,
                                  ModelEvent::kLoaded,    ModelEvent::kLoadFailed,
                                  ModelEvent::kUnpublish, ModelEvent::kDrained};

TEST(ModelLifecycleTest, PublishUnpublishRoundTrip) {
  ModelState s = ModelState::kDraft;
  for (ModelEvent e : {ModelEvent::kPublish, ModelEvent::kLoaded, ModelEvent::kUnpublish,
                       ModelEvent::kDrained, ModelEvent::kPublish, ModelEvent::kLoaded}) {
    auto next = ModelLifecycle::Next(s, e);
    ASSERT_TRUE(next.ok()) << ModelStateName(s) << " + " << ModelEventName(e);
    s = *next;
  }
  EXPECT_EQ(s, ModelState::kPublished);
}

TEST(ModelLifecycleTest, FailedLoadsCanBeRetried) {
  EXPECT_EQ(*ModelLifecycle::Next(ModelState::kLoading, ModelEvent::kLoadFailed),
            ModelState::kFailed);
  EXPECT_EQ(*ModelLifecycle::Next(ModelState::kFailed, ModelEvent::kPublish), ModelState::kLoading);
  EXPECT_EQ(*ModelLifecycle::Next(ModelState::kPublished, ModelEvent::kRestart),
            ModelState::kLoading);
}

TEST(ModelLifecycleTest, ExactlyTheDocumentedTransitionsAreLegal) {
  int legal = 0;
  for (ModelState s : kAll) {
    for (ModelEvent e : kEvents) {
      auto next = ModelLifecycle::Next(s, e);
      if (next.ok()) {
        ++legal;
        continue;
      }
      EXPECT_EQ(ErrorCodeOf(next.status()), "MODEL_STATE_CONFLICT");
      EXPECT_NE(std::string(ToStd(next.status().message())).find(ModelStateName(s)),
                std::string::npos);
    }
  }
  EXPECT_EQ(legal, 9);
  EXPECT_FALSE(ModelLifecycle::Next(ModelState::kPublished, ModelEvent::kPublish).ok());
  EXPECT_FALSE(ModelLifecycle::Next(ModelState::kDraft, ModelEvent::kUnpublish).ok());
}

TEST(ModelLifecycleTest, OnlyIdleModelsAreDeletable) {
  EXPECT_TRUE(ModelLifecycle::CheckDeletable(ModelState::kDraft).ok());
  EXPECT_TRUE(ModelLifecycle::CheckDeletable(ModelState::kUnpublished).ok());
  EXPECT_TRUE(ModelLifecycle::CheckDeletable(ModelState::kFailed).ok());
  for (ModelState s : {ModelState::kLoading, ModelState::kPublished, ModelState::kDraining}) {
    EXPECT_EQ(ErrorCodeOf(ModelLifecycle::CheckDeletable(s)), "MODEL_STATE_CONFLICT");
  }
}

TEST(ModelLifecycleTest, VersionsSwitchExceptWhileLoadingOrDraining) {
  for (ModelState s : {ModelState::kDraft, ModelState::kPublished, ModelState::kUnpublished,
                       ModelState::kFailed}) {
    EXPECT_TRUE(ModelLifecycle::CheckActivatable(s).ok()) << ModelStateName(s);
  }
  for (ModelState s : {ModelState::kLoading, ModelState::kDraining}) {
    absl::Status st = ModelLifecycle::CheckActivatable(s);
    EXPECT_EQ(ErrorCodeOf(st), "MODEL_STATE_CONFLICT");
    EXPECT_EQ(HttpStatusFor(st), 409);
    EXPECT_NE(std::string(st.message()).find("activate a version of"), std::string::npos);
  }
}

TEST(ModelLifecycleTest, AStartUpReloadGoesThroughLoading) {
  // RestoreServing: published --restart--> loading --loaded|load_failed--> ...
  auto loading = ModelLifecycle::Next(ModelState::kPublished, ModelEvent::kRestart);
  ASSERT_TRUE(loading.ok());
  EXPECT_EQ(*loading, ModelState::kLoading);
  EXPECT_EQ(*ModelLifecycle::Next(*loading, ModelEvent::kLoaded), ModelState::kPublished);
  EXPECT_EQ(*ModelLifecycle::Next(*loading, ModelEvent::kLoadFailed), ModelState::kFailed);
  // Interrupted transitions are finished the safe way.
  EXPECT_EQ(*ModelLifecycle::Next(ModelState::kDraining, ModelEvent::kDrained),
            ModelState::kUnpublished);
}

TEST(ModelLifecycleTest, NamesRoundTrip) {
  for (ModelState s : kAll) EXPECT_EQ(ModelStateFromName(ModelStateName(s)), s);
  EXPECT_FALSE(ModelStateFromName("deprecated").has_value());
}

}  // namespace
}  // namespace cinfer
