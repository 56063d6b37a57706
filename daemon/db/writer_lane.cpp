#include "daemon/db/writer_lane.h"

#include <pthread.h>

#include <utility>

#include "daemon/db/batch_sql.h"

namespace cdrd {

WriterLane::WriterLane(std::string dsn, std::string name)
    : dsn_(std::move(dsn)), name_(std::move(name)), thread_([this] { run(); }) {}

WriterLane::~WriterLane() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void WriterLane::start(Job job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = std::move(job);
    busy_ = true;
    error_ = nullptr;
  }
  cv_.notify_all();
}

void WriterLane::wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !busy_; });
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void WriterLane::connect() {
  auto c = std::make_unique<pqxx::connection>(dsn_);
  configure_writer_session(*c, name_);
  create_staging_table(*c);
  conn_ = std::move(c);
}

void WriterLane::run() {
  // Thread names are at most 15 characters: "cdrd-writer-1".
  pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return busy_ || stopping_; });
      if (!busy_) break;  // stopping with nothing to do
      job = std::move(job_);
    }
    std::exception_ptr error;
    try {
      // A connection the server closed while the lane was idle is noticed
      // here (get_notifs() reads the end of the stream) and replaced, rather
      // than failing the job.
      if (conn_) {
        try {
          conn_->get_notifs();
        } catch (const pqxx::broken_connection&) {
          conn_.reset();
        }
      }
      if (!conn_ || !conn_->is_open()) connect();
      job(*conn_);
    } catch (...) {
      error = std::current_exception();
      conn_.reset();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Moved, not copied: the exception is then released only by the
      // thread that rethrows it (wait()). A copy left here would be released
      // at the end of this iteration, maybe last, freeing the exception while
      // the writer still reads it; exception_ptr's reference count is atomic,
      // but ThreadSanitizer cannot see that inside libstdc++ and reports a race.
      error_ = std::move(error);
      busy_ = false;
    }
    cv_.notify_all();
  }
  conn_.reset();
}

}  // namespace cdrd
