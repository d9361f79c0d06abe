#include "auth/password_hasher.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace cinfer {
namespace {

TEST(PasswordHasherTest, DefaultsAreOwaspArgon2id) {
  auto h = PasswordHasher::Create({});
  ASSERT_TRUE(h.ok());
  auto hash = (*h)->Hash("correct horse");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << *hash;
  EXPECT_TRUE((*h)->Verify(*hash, "correct horse"));
  EXPECT_FALSE((*h)->Verify(*hash, "correct horsE"));
}

TEST(PasswordHasherTest, SaltsDifferAndGarbageNeverVerifies) {
  auto h = PasswordHasher::Create({.time_cost = 1, .memory_kib = 1024});
  ASSERT_TRUE(h.ok());
  auto a = (*h)->Hash("pw");
  auto b = (*h)->Hash("pw");
  EXPECT_NE(*a, *b);
  EXPECT_FALSE((*h)->Verify("not a hash", "pw"));
  EXPECT_FALSE((*h)->Verify("", ""));
}

TEST(PasswordHasherTest, ConcurrentUseIsSafe) {
  auto h = PasswordHasher::Create({.time_cost = 1, .memory_kib = 1024, .max_concurrent = 2});
  ASSERT_TRUE(h.ok());
  auto hash = *(*h)->Hash("secret-pw");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] { ok += (*h)->Verify(hash, "secret-pw") ? 1 : 0; });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 6);
}

TEST(PasswordHasherTest, RejectsBadConcurrency) {
  EXPECT_FALSE(PasswordHasher::Create({.max_concurrent = 0}).ok());
}

}  // namespace
}  // namespace cinfer
