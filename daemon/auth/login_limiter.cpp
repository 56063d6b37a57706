#include "daemon/auth/login_limiter.h"

#include <iterator>
#include <stdexcept>

namespace cdrd {

LoginLimiter::LoginLimiter(Settings settings) : settings_(settings) {
  if (settings_.max_failures <= 0) throw std::invalid_argument("login limiter: max_failures must be positive");
  if (settings_.window.count() <= 0) throw std::invalid_argument("login limiter: window must be positive");
  if (settings_.max_addresses == 0) throw std::invalid_argument("login limiter: max_addresses must be positive");
}

int64_t LoginLimiter::admit(const std::string& address, Clock::time_point now) {
  const auto found = index_.find(address);
  if (found == index_.end()) {
    if (index_.size() >= settings_.max_addresses) {
      index_.erase(order_.front().address);
      order_.pop_front();
    }
    order_.push_back(Entry{address, now, 1});
    index_.emplace(address, std::prev(order_.end()));
    return 0;
  }
  Entry& entry = *found->second;
  const Clock::time_point window_end = entry.window_start + settings_.window;
  if (now >= window_end) {
    entry.window_start = now;
    entry.failures = 0;
  } else if (entry.failures >= settings_.max_failures) {
    // Rounded up: a client that waits the whole seconds given is admitted.
    return std::chrono::ceil<std::chrono::seconds>(window_end - now).count();
  }
  ++entry.failures;
  order_.splice(order_.end(), order_, found->second);
  return 0;
}

void LoginLimiter::succeeded(const std::string& address) {
  const auto found = index_.find(address);
  if (found == index_.end()) return;
  order_.erase(found->second);
  index_.erase(found);
}

}  // namespace cdrd
