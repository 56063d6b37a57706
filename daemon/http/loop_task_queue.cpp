#include "daemon/http/loop_task_queue.h"

namespace cdrd {

LoopTaskQueue::LoopTaskQueue(event_base* base) { wake_ = event_new(base, -1, 0, &LoopTaskQueue::on_wake, this); }

LoopTaskQueue::~LoopTaskQueue() { event_free(wake_); }

void LoopTaskQueue::post(std::function<void()> task) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_empty = tasks_.empty();
    tasks_.push_back(std::move(task));
  }
  if (was_empty) event_active(wake_, EV_READ, 0);
}

void LoopTaskQueue::on_wake(evutil_socket_t, short, void* self) { static_cast<LoopTaskQueue*>(self)->drain(); }

void LoopTaskQueue::drain() {
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(tasks_);
  }
  for (auto& task : batch) task();
}

}  // namespace cdrd
