#include "common/repeat_filter.h"

#include <gtest/gtest.h>

namespace cinfer {
namespace {

using std::chrono::milliseconds;

TEST(RepeatFilterTest, FirstLineThenOnePerIntervalWithTheSuppressedCount) {
  RepeatFilter f(std::chrono::seconds(1));
  const RepeatFilter::TimePoint t0{};
  EXPECT_EQ(f.Admit("disk full", t0), 0u);
  for (int i = 1; i <= 99; ++i) EXPECT_FALSE(f.Admit("disk full", t0 + milliseconds(i * 10)));
  EXPECT_EQ(f.Admit("disk full", t0 + milliseconds(1000)), 99u);
  EXPECT_FALSE(f.Admit("disk full", t0 + milliseconds(1500)));
  EXPECT_EQ(f.Admit("disk full", t0 + milliseconds(2500)), 1u);
}

TEST(RepeatFilterTest, KeysAreIndependent) {
  RepeatFilter f(std::chrono::seconds(1));
  const RepeatFilter::TimePoint t0{};
  EXPECT_EQ(f.Admit("a", t0), 0u);
  EXPECT_EQ(f.Admit("b", t0), 0u);
  EXPECT_FALSE(f.Admit("a", t0));
}

TEST(RepeatFilterTest, ForgetsTheOldestKeyBeyondTheBound) {
  RepeatFilter f(std::chrono::seconds(1), /*max_keys=*/2);
  const RepeatFilter::TimePoint t0{};
  f.Admit("a", t0);
  f.Admit("b", t0);
  f.Admit("c", t0);                 // forgets "a"
  EXPECT_EQ(f.Admit("a", t0), 0u);  // logged again: memory stays bounded
  EXPECT_FALSE(f.Admit("c", t0));
}

}  // namespace
}  // namespace cinfer
