#include "models/serving_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace cinfer {
namespace {

std::shared_ptr<const ServedModel> Served(const std::string& id, int64_t version) {
  auto s = std::make_shared<ServedModel>();
  s->model_id = id;
  s->version = version;
  return s;
}

TEST(ServingRegistryTest, PutFindRemove) {
  ServingRegistry registry;
  EXPECT_EQ(registry.Find("a"), nullptr);
  EXPECT_EQ(registry.Put(Served("a", 1)), nullptr);
  registry.Put(Served("b", 1));
  ASSERT_NE(registry.Find("a"), nullptr);
  EXPECT_EQ(registry.Find("a")->version, 1);
  auto previous = registry.Put(Served("a", 2));
  ASSERT_NE(previous, nullptr);
  EXPECT_EQ(previous->version, 1);
  EXPECT_EQ(registry.Find("a")->version, 2);
  EXPECT_EQ(registry.All().size(), 2u);
  auto removed = registry.Remove("a");
  ASSERT_NE(removed, nullptr);
  EXPECT_EQ(removed->version, 2);
  EXPECT_EQ(registry.Find("a"), nullptr);
  EXPECT_EQ(registry.Remove("a"), nullptr);
  EXPECT_EQ(registry.Find("b")->version, 1);
}

TEST(ServingRegistryTest, HandlesPinReplacedVersionsUntilReleased) {
  ServingRegistry registry;
  registry.Put(Served("a", 1));
  std::shared_ptr<const ServedModel> pinned = registry.Find("a");  // an in-flight request
  std::weak_ptr<const ServedModel> watch = pinned;
  registry.Put(Served("a", 2));
  EXPECT_EQ(pinned->version, 1);  // the request finishes on the version it started with
  EXPECT_FALSE(WaitForDrain(watch, std::chrono::milliseconds(20)));
  std::thread finish([&pinned] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    pinned.reset();
  });
  EXPECT_TRUE(WaitForDrain(watch, std::chrono::seconds(10)));
  finish.join();
  EXPECT_TRUE(watch.expired());
}

TEST(ServingRegistryTest, ReadersSeeOneVersionOrTheOtherDuringSwaps) {
  ServingRegistry registry;
  registry.Put(Served("a", 1));
  std::atomic<bool> stop{false};
  std::atomic<int64_t> reads{0}, misses{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop) {
        auto h = registry.Find("a");
        if (h == nullptr || (h->version != 1 && h->version != 2)) ++misses;
        ++reads;
      }
    });
  }
  // Swap until the readers have overlapped with plenty of swaps (the machine may be busy).
  for (int i = 0; i < 2000 || reads.load() < 10000; ++i) registry.Put(Served("a", 1 + i % 2));
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(misses.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

TEST(ServingRegistryTest, InFlightCounts) {
  auto s = std::make_shared<ServedModel>();
  {
    InFlight a(*s);
    InFlight b(*s);
    EXPECT_EQ(s->in_flight.load(), 2);
  }
  EXPECT_EQ(s->in_flight.load(), 0);
}

}  // namespace
}  // namespace cinfer
