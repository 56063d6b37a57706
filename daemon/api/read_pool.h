// ReadPool: the threads that run read-API queries, so the ingest loop never
// waits on the database. Each thread owns one CdrStore (one connection).
// Jobs arrive through a bounded locked queue; a full queue is refused at
// once (the caller answers 503) instead of piling requests up.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cdrd {

class CdrStore;

class ReadPool {
 public:
  using Job = std::function<void(CdrStore& store)>;

  ReadPool(int threads, const std::string& dsn, int statement_timeout_ms, size_t max_queued);
  ~ReadPool();  // runs what is queued, then joins
  ReadPool(const ReadPool&) = delete;
  ReadPool& operator=(const ReadPool&) = delete;

  // Thread-safe. False when max_queued jobs are already waiting.
  bool submit(Job job);

  // Thread-safe. `wake` runs once, on the thread that destroys the pool, when
  // the pool starts stopping (at once if it already is): a job that waits on
  // something other than the database (a streamed reply waiting for a slow
  // client) is told to stop, so the destructor can join it. Returns the id
  // for remove_stop_hook(), which a job calls before it returns.
  uint64_t add_stop_hook(std::function<void()> wake);
  void remove_stop_hook(uint64_t id);

 private:
  void run(CdrStore* store);

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;                                  // guarded by mu_
  bool stopping_ = false;                                 // guarded by mu_
  std::map<uint64_t, std::function<void()>> stop_hooks_;  // guarded by mu_
  uint64_t next_hook_id_ = 1;                             // guarded by mu_
  std::vector<std::unique_ptr<CdrStore>> stores_;
  std::vector<std::thread> threads_;
};

}  // namespace cdrd
