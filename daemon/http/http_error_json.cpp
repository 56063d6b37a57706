#include "daemon/http/http_error_json.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "daemon/http/http_reply.h"

namespace cdrd {

namespace {

constexpr std::string_view kHeadEnd = "\r\n\r\n";
// evhttp_send_page_() sets exactly this header; cdrd's own replies never do.
constexpr std::string_view kLibeventPage = "\r\nContent-Type: text/html\r\n";
// A reply head longer than this is not one of libevent's pages.
constexpr size_t kMaxHead = 4096;

}  // namespace

std::string json_for_libevent_error(std::string_view reply, uint64_t max_body_bytes, const std::string& request_id) {
  const size_t head_end = reply.find(kHeadEnd);
  if (reply.substr(0, 9) != "HTTP/1.1 " && reply.substr(0, 9) != "HTTP/1.0 ") return "";
  if (head_end == std::string_view::npos || head_end > kMaxHead) return "";
  const std::string_view head = reply.substr(0, head_end + 2);
  if (head.find(kLibeventPage) == std::string_view::npos) return "";
  const std::string_view status_line = reply.substr(0, reply.find("\r\n"));
  const int status = static_cast<int>(std::strtol(std::string(status_line.substr(9, 3)).c_str(), nullptr, 10));
  std::string code, message;
  switch (status) {
    case 413:
      code = "body_too_large";
      message = fmt::format("the body is over limits.max_body_bytes ({} bytes)", max_body_bytes);
      break;
    case 417:
      code = "expectation_failed";
      message = "the Expect header is not understood (only 100-continue is)";
      break;
    case 400:
      code = "bad_request";
      message =
          "malformed HTTP request: a bad request line, header or chunk, conflicting Content-Length and "
          "Transfer-Encoding, or headers over limits.max_header_bytes";
      break;
    default:
      code = "http_error";
      message = std::string(status_line.substr(9));
  }
  const std::string body = error_body(code, message, request_id);
  return fmt::format(
      "{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nX-Request-Id: {}\r\n\r\n{}",
      status_line, body.size(), request_id, body);
}

void HttpErrorJson::attach(evbuffer* output, uint64_t max_body_bytes, std::atomic<uint64_t>* rewritten) {
  detach();
  output_ = output;
  max_body_bytes_ = max_body_bytes;
  rewritten_ = rewritten;
  entry_ = evbuffer_add_cb(output_, &HttpErrorJson::on_output, this);
}

void HttpErrorJson::detach() {
  if (output_ && entry_) evbuffer_remove_cb_entry(output_, entry_);
  output_ = nullptr;
  entry_ = nullptr;
}

void HttpErrorJson::on_output(evbuffer* buf, const evbuffer_cb_info* info, void* self) {
  auto* me = static_cast<HttpErrorJson*>(self);
  if (me->rewriting_ || info->n_added == 0) return;
  // evhttp writes a reply only once the previous one left the buffer, so a
  // reply starts in an empty buffer. Chunks of a streamed body start with a
  // hex size, never with "HTTP/1.".
  if (info->orig_size == 0) {
    char start[7];
    const bool reply_start = evbuffer_copyout(buf, start, sizeof(start)) == static_cast<ev_ssize_t>(sizeof(start)) &&
                             std::string_view(start, sizeof(start)) == "HTTP/1.";
    me->state_ = reply_start ? State::kHead : State::kIdle;
  }
  if (me->state_ == State::kHead) me->check(buf);
}

void HttpErrorJson::check(evbuffer* buf) {
  const evbuffer_ptr end = evbuffer_search(buf, kHeadEnd.data(), kHeadEnd.size(), nullptr);
  const size_t length = evbuffer_get_length(buf);
  if (end.pos < 0) {
    if (length > kMaxHead) state_ = State::kIdle;
    return;
  }
  const size_t head_length = static_cast<size_t>(end.pos) + kHeadEnd.size();
  std::string head(std::min(head_length, kMaxHead + kHeadEnd.size()), '\0');
  evbuffer_copyout(buf, head.data(), head.size());
  if (head.find(kLibeventPage) == std::string::npos) {
    state_ = State::kIdle;  // one of cdrd's replies
    return;
  }
  if (length == head_length) return;  // libevent adds the page's body next
  state_ = State::kIdle;
  std::string reply(length, '\0');
  evbuffer_copyout(buf, reply.data(), length);
  const std::string request_id = new_request_id();
  const std::string json = json_for_libevent_error(reply, max_body_bytes_, request_id);
  if (json.empty()) return;
  rewriting_ = true;
  evbuffer_drain(buf, length);
  evbuffer_add(buf, json.data(), json.size());
  rewriting_ = false;
  if (rewritten_) rewritten_->fetch_add(1, std::memory_order_relaxed);
  spdlog::info("request {} refused by the HTTP parser: {}", request_id, reply.substr(0, reply.find("\r\n")));
}

}  // namespace cdrd
