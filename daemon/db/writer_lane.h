// WriterLane: one more connection of the BatchWriter, on a thread of its own
// (a pqxx::connection belongs to one thread). The BatchWriter's thread hands
// it one job at a time (its share of a batch: one transaction) and waits for
// it; the lane connects when a job finds it without a connection and drops
// the connection when a job fails, so the next job starts on a fresh one.
// Lanes 1..N-1 of database.writer_connections; lane 0 is the BatchWriter's
// own connection.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <pqxx/connection>

namespace cdrd {

class WriterLane {
 public:
  using Job = std::function<void(pqxx::connection&)>;

  // `dsn` with its connect timeout; `name` becomes the connection's
  // application_name and the thread's name.
  WriterLane(std::string dsn, std::string name);
  ~WriterLane();  // finishes the job in flight, closes the connection, joins
  WriterLane(const WriterLane&) = delete;
  WriterLane& operator=(const WriterLane&) = delete;

  // Starts `job` on the lane's thread. At most one job at a time: wait()
  // for it before the next start().
  void start(Job job);
  // Waits for the job; rethrows what it (or connecting) threw.
  void wait();

 private:
  void run();
  void connect();

  const std::string dsn_;
  const std::string name_;
  std::unique_ptr<pqxx::connection> conn_;  // the lane thread's alone

  std::mutex mu_;
  std::condition_variable cv_;
  Job job_;
  bool busy_ = false;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace cdrd
