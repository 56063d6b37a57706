// Per-address limit on login attempts (the user/password routes): a client
// address gets at most `max_failures` failed logins in a window of
// `window`, counted from its first failure; after that it is refused until
// the window ends, with the seconds to wait (Retry-After). A successful
// login clears its address.
//
// An attempt counts as failed from the moment it is admitted until
// succeeded() clears it: the password check runs elsewhere (a read-pool
// thread, Argon2id), and counting only reported failures would let a client
// fire any number of guesses before the first one is reported.
//
// Used on the libevent loop thread only: no locks, nothing that blocks,
// O(1) per call. Memory is bounded: at most `max_addresses` addresses are
// tracked; a new one beyond that drops the least recently attempted one.
// The time is an argument, so tests decide it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>

namespace cdrd {

class LoginLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  struct Settings {
    int max_failures = 10;
    std::chrono::seconds window{60};
    size_t max_addresses = 10000;
  };

  // std::invalid_argument naming the setting when one is not positive.
  explicit LoginLimiter(Settings settings);
  LoginLimiter() : LoginLimiter(Settings{}) {}

  // Before a login from `address` is checked: 0 = go ahead (the attempt is
  // counted as failed until succeeded()); otherwise the whole seconds until
  // the address may try again (>= 1, rounded up), for Retry-After. A refused
  // attempt is not counted.
  int64_t admit(const std::string& address, Clock::time_point now);

  // The login from `address` succeeded: its failures are forgotten.
  void succeeded(const std::string& address);

  size_t tracked() const { return index_.size(); }

 private:
  struct Entry {
    std::string address;
    Clock::time_point window_start;
    int failures = 0;
  };
  using Order = std::list<Entry>;  // least recently attempted first

  Settings settings_;
  Order order_;
  std::unordered_map<std::string, Order::iterator> index_;
};

}  // namespace cdrd
