#include "daemon/api/read_pool.h"

#include <pthread.h>

#include "daemon/api/cdr_store.h"

namespace cdrd {

ReadPool::ReadPool(int threads, const std::string& dsn, int statement_timeout_ms, size_t max_queued)
    : max_queued_(max_queued) {
  for (int i = 0; i < threads; ++i) {
    stores_.push_back(std::make_unique<CdrStore>(dsn, statement_timeout_ms));
    threads_.emplace_back([this, store = stores_.back().get()] { run(store); });
  }
}

ReadPool::~ReadPool() {
  std::map<uint64_t, std::function<void()>> hooks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    hooks.swap(stop_hooks_);
  }
  // Outside the lock: a hook takes its job's own lock, and that job may be
  // calling remove_stop_hook() at this moment.
  for (auto& [id, wake] : hooks) wake();
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

bool ReadPool::submit(Job job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || jobs_.size() >= max_queued_) return false;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

uint64_t ReadPool::add_stop_hook(std::function<void()> wake) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      const uint64_t id = next_hook_id_++;
      stop_hooks_.emplace(id, std::move(wake));
      return id;
    }
  }
  wake();
  return 0;
}

void ReadPool::remove_stop_hook(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  stop_hooks_.erase(id);
}

void ReadPool::run(CdrStore* store) {
  pthread_setname_np(pthread_self(), "cdrd-read");
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job(*store);
  }
}

}  // namespace cdrd
