// LoopTaskQueue: the only way work from other threads reaches the ingest
// loop (memcached's thread.c pattern). Any thread post()s a closure under a
// mutex; when the queue goes from empty to non-empty the poster activates a
// libevent user event, and the loop thread drains the whole queue in its
// callback. Requires evthread_use_pthreads() before the base was created.
#pragma once

#include <event2/event.h>

#include <deque>
#include <functional>
#include <mutex>

namespace cdrd {

class LoopTaskQueue {
 public:
  explicit LoopTaskQueue(event_base* base);
  ~LoopTaskQueue();
  LoopTaskQueue(const LoopTaskQueue&) = delete;
  LoopTaskQueue& operator=(const LoopTaskQueue&) = delete;

  // Thread-safe. `task` runs on the loop thread.
  void post(std::function<void()> task);

 private:
  static void on_wake(evutil_socket_t, short, void* self);
  void drain();

  event* wake_ = nullptr;
  std::mutex mu_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
};

}  // namespace cdrd
