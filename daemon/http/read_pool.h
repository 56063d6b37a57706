// ReadPool: the threads that run read-API queries, so the ingest loop never
// waits on the database. Each thread owns one CdrStore (one connection).
// Jobs arrive through a bounded locked queue; a full queue is refused at
// once (the caller answers 503) instead of piling requests up.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
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

 private:
  void run(CdrStore* store);

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;   // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::vector<std::unique_ptr<CdrStore>> stores_;
  std::vector<std::thread> threads_;
};

}  // namespace cdrd
