#include "models/serving_plan.h"

#include <gtest/gtest.h>

namespace cinfer {
namespace {

ModelConfig With(int64_t instances, int64_t threads) {
  ModelConfig c;
  c.instances = instances;
  c.threads = threads;
  return c;
}

TEST(ServingPlanTest, UnsetFieldsAreSizedFromTheCores) {
  for (int cores : {1, 2, 3, 8, 16, 64}) {
    SCOPED_TRACE(cores);
    const ServingPlan p = PlanServing(With(0, 0), cores);
    EXPECT_EQ(p.instances, std::min(cores, 4));
    EXPECT_GE(p.threads, 1);
    EXPECT_LE(p.instances * p.threads, cores);  // never more threads than cores
    EXPECT_EQ(p.allow_spinning, p.instances == 1);
  }
  const ServingPlan two = PlanServing(With(0, 0), 2);
  EXPECT_EQ(two.instances, 2);
  EXPECT_EQ(two.threads, 1);
  EXPECT_FALSE(two.allow_spinning);
}

TEST(ServingPlanTest, WhatTheConfigSetsIsKept) {
  const ServingPlan both = PlanServing(With(3, 5), 2);
  EXPECT_EQ(both.instances, 3);
  EXPECT_EQ(both.threads, 5);
  EXPECT_EQ(both.rule, "as configured");
  const ServingPlan inst = PlanServing(With(2, 0), 8);
  EXPECT_EQ(inst.instances, 2);
  EXPECT_EQ(inst.threads, 4);
  const ServingPlan thr = PlanServing(With(0, 2), 8);
  EXPECT_EQ(thr.instances, 4);
  EXPECT_EQ(thr.threads, 2);
  const ServingPlan one = PlanServing(With(1, 0), 4);
  EXPECT_EQ(one.threads, 4);
  EXPECT_TRUE(one.allow_spinning);
}

TEST(ServingPlanTest, AMachineWithoutCoreCountIsOneCore) {
  const ServingPlan p = PlanServing(With(0, 0), 0);
  EXPECT_EQ(p.instances, 1);
  EXPECT_EQ(p.threads, 1);
}

}  // namespace
}  // namespace cinfer
