// The per-address login limit, with the time given by the test.
#include "daemon/auth/login_limiter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace cdrd {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
const LoginLimiter::Clock::time_point kT0{seconds(1000)};

// `n` admitted attempts from `address` at `at`; false if one was refused.
bool attempts(LoginLimiter& limiter, const std::string& address, int n, LoginLimiter::Clock::time_point at) {
  for (int i = 0; i < n; ++i) {
    if (limiter.admit(address, at) != 0) return false;
  }
  return true;
}

TEST(LoginLimiter, TenFailuresThenRefusedUntilTheWindowEnds) {
  LoginLimiter limiter;
  ASSERT_TRUE(attempts(limiter, "192.0.2.1", 10, kT0));
  EXPECT_EQ(limiter.admit("192.0.2.1", kT0), 60);
  EXPECT_EQ(limiter.admit("192.0.2.1", kT0 + seconds(45)), 15);
  // Rounded up: 0.5 s left is 1 s to wait, 59.5 s is 60.
  EXPECT_EQ(limiter.admit("192.0.2.1", kT0 + milliseconds(59500)), 1);
  EXPECT_EQ(limiter.admit("192.0.2.1", kT0 + milliseconds(500)), 60);
  // The window (from the first failure) is over: ten more.
  ASSERT_TRUE(attempts(limiter, "192.0.2.1", 10, kT0 + seconds(60)));
  EXPECT_EQ(limiter.admit("192.0.2.1", kT0 + seconds(61)), 59);
}

TEST(LoginLimiter, TheWindowStartsAtTheFirstFailure) {
  LoginLimiter limiter;
  ASSERT_TRUE(attempts(limiter, "192.0.2.1", 1, kT0));
  ASSERT_TRUE(attempts(limiter, "192.0.2.1", 9, kT0 + seconds(50)));
  EXPECT_EQ(limiter.admit("192.0.2.1", kT0 + seconds(50)), 10);
  // Refused attempts do not prolong the wait.
  EXPECT_EQ(limiter.admit("192.0.2.1", kT0 + seconds(55)), 5);
  EXPECT_EQ(limiter.admit("192.0.2.1", kT0 + seconds(60)), 0);
}

TEST(LoginLimiter, SuccessClearsItsAddress) {
  LoginLimiter limiter;
  ASSERT_TRUE(attempts(limiter, "192.0.2.1", 9, kT0));
  limiter.succeeded("192.0.2.1");
  EXPECT_EQ(limiter.tracked(), 0u);
  ASSERT_TRUE(attempts(limiter, "192.0.2.1", 10, kT0 + seconds(1)));
  EXPECT_EQ(limiter.admit("192.0.2.1", kT0 + seconds(1)), 60);
  // Also after the limit was reached (e.g. a login admitted before it).
  limiter.succeeded("192.0.2.1");
  EXPECT_EQ(limiter.admit("192.0.2.1", kT0 + seconds(1)), 0);
  limiter.succeeded("198.51.100.7");  // never seen: nothing happens
}

TEST(LoginLimiter, AddressesAreCountedApart) {
  LoginLimiter limiter;
  ASSERT_TRUE(attempts(limiter, "192.0.2.1", 10, kT0));
  EXPECT_GT(limiter.admit("192.0.2.1", kT0), 0);
  EXPECT_EQ(limiter.admit("192.0.2.2", kT0), 0);
  EXPECT_EQ(limiter.admit("2001:db8::1", kT0), 0);
  EXPECT_EQ(limiter.tracked(), 3u);
}

TEST(LoginLimiter, SettingsAreHonoured) {
  LoginLimiter limiter(LoginLimiter::Settings{3, seconds(10), 100});
  ASSERT_TRUE(attempts(limiter, "a", 3, kT0));
  EXPECT_EQ(limiter.admit("a", kT0 + seconds(2)), 8);
  EXPECT_EQ(limiter.admit("a", kT0 + seconds(10)), 0);
}

TEST(LoginLimiter, MemoryIsBoundedDroppingTheLeastRecentlyAttempted) {
  LoginLimiter limiter(LoginLimiter::Settings{2, seconds(60), 3});
  ASSERT_TRUE(attempts(limiter, "a", 2, kT0));
  ASSERT_TRUE(attempts(limiter, "b", 2, kT0 + seconds(1)));
  ASSERT_TRUE(attempts(limiter, "c", 2, kT0 + seconds(2)));
  EXPECT_EQ(limiter.admit("a", kT0 + seconds(3)), 57);  // refused: "a" stays oldest
  // A fourth address drops "a", the least recently attempted.
  EXPECT_EQ(limiter.admit("d", kT0 + seconds(4)), 0);
  EXPECT_EQ(limiter.tracked(), 3u);
  EXPECT_EQ(limiter.admit("a", kT0 + seconds(5)), 0);  // forgotten: counted afresh (drops "b")
  EXPECT_EQ(limiter.tracked(), 3u);
  EXPECT_EQ(limiter.admit("c", kT0 + seconds(5)), 57);  // still limited
  EXPECT_EQ(limiter.admit("b", kT0 + seconds(5)), 0);   // dropped in turn
}

TEST(LoginLimiter, BadSettingsAreRefused) {
  EXPECT_THROW(LoginLimiter(LoginLimiter::Settings{0, seconds(60), 10}), std::invalid_argument);
  EXPECT_THROW(LoginLimiter(LoginLimiter::Settings{10, seconds(0), 10}), std::invalid_argument);
  EXPECT_THROW(LoginLimiter(LoginLimiter::Settings{10, seconds(60), 0}), std::invalid_argument);
}

}  // namespace
}  // namespace cdrd
