#include "daemon/ingest/reject_store.h"

#include <fcntl.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace cdrd {
namespace {

bool write_durably(const std::string& path, const std::string& data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return false;
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    off += static_cast<size_t>(n);
  }
  const bool synced = ::fdatasync(fd) == 0;
  return ::close(fd) == 0 && synced;
}

std::string utc_stamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

RejectStore::RejectStore(std::string dir) : dir_(std::move(dir)) {
  if (::mkdir(dir_.c_str(), 0750) != 0 && errno != EEXIST) {
    throw std::runtime_error("cannot create rejects directory " + dir_ + ": " + std::strerror(errno));
  }
  thread_ = std::thread([this] { run(); });
}

RejectStore::~RejectStore() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void RejectStore::save(RejectedInput input, std::function<void(bool)> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.emplace_back(std::move(input), std::move(done));
  }
  cv_.notify_one();
}

void RejectStore::run() {
  for (;;) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    auto item = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    const bool saved = write_files(item.first);
    if (!saved)
      spdlog::error("rejects: could not save request {} under {}: {}", item.first.request_id, dir_,
                    std::strerror(errno));
    if (item.second) item.second(saved);
  }
}

bool RejectStore::write_files(const RejectedInput& input) {
  const std::string base = dir_ + "/" + utc_stamp() + "-" + input.request_id;
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("request_id");
  w.String(input.request_id);
  w.Key("route");
  w.String(input.route);
  w.Key("code");
  w.String(input.code);
  w.Key("message");
  w.String(input.message);
  w.Key("content_type");
  w.String(input.content_type);
  w.Key("remote");
  w.String(input.remote);
  w.Key("received_at");
  w.Int64(static_cast<int64_t>(std::time(nullptr)));
  w.Key("body_bytes");
  w.Uint64(input.body.size());
  w.EndObject();
  return write_durably(base + ".body", input.body) &&
         write_durably(base + ".meta.json", std::string(sb.GetString(), sb.GetSize()));
}

}  // namespace cdrd
