// RejectStore: keeps the raw payload of every refused input under
// state_dir/rejects/ so nothing a media server sent is lost, even when it was
// malformed. Files are written and fdatasync'd on the store's own thread (the
// ingest loop never waits on the disk); the 400 is sent from `done`.
//
//   <UTC time>-<request id>.body       the bytes exactly as received
//   <UTC time>-<request id>.meta.json  route, error code and message, headers
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace cdrd {

struct RejectedInput {
  std::string request_id;
  std::string route;         // e.g. "/ingest/freeswitch/json"
  std::string code;          // error code sent to the client
  std::string message;       // error message sent to the client
  std::string content_type;  // as received
  std::string remote;        // peer address
  std::string body;          // raw bytes
};

class RejectStore {
 public:
  // Creates `dir` if needed. Throws std::runtime_error naming the path on failure.
  explicit RejectStore(std::string dir);
  ~RejectStore();  // writes what is queued, then stops

  // Thread-safe. `done(saved)` runs on the store's thread after the files are durable.
  void save(RejectedInput input, std::function<void(bool saved)> done);

  const std::string& dir() const { return dir_; }

 private:
  void run();
  bool write_files(const RejectedInput& input);

  const std::string dir_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<RejectedInput, std::function<void(bool)>>> queue_;  // guarded by mu_
  bool stopping_ = false;                                                  // guarded by mu_
  std::thread thread_;
};

}  // namespace cdrd
