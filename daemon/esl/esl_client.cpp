#include "daemon/esl/esl_client.h"

#include <event2/buffer.h>
#include <spdlog/spdlog.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "adapters/freeswitch/esl_event.h"
#include "daemon/core/cdr_record.h"
#include "daemon/core/metrics.h"
#include "daemon/ingest/reject_store.h"
#include "daemon/spool/spool.h"

namespace cdrd {
namespace {

constexpr std::string_view kHangup = "CHANNEL_HANGUP_COMPLETE";

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Reject file names are built from this; keep them to characters safe in a path.
std::string file_safe(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  }
  return out;
}

}  // namespace

const char* EslClient::state_name(State state) {
  switch (state) {
    case State::kStopped:
      return "stopped";
    case State::kConnecting:
      return "connecting";
    case State::kConnected:
      return "connected";
    case State::kWaiting:
      return "reconnecting";
    case State::kAuthFailed:
      return "auth_failed";
  }
  return "unknown";
}

EslClient::EslClient(Parts parts, EslClientOptions options, std::shared_ptr<const NormalizeOptions> normalize)
    : parts_(parts),
      options_(std::move(options)),
      normalize_(std::move(normalize)),
      node_metrics_(&parts_.metrics->esl_node(options_.node.name)),
      reject_route_("esl:" + options_.node.name),
      backoff_(options_.backoff_initial),
      jitter_rng_(std::random_device{}()) {
  reconnect_timer_ = evtimer_new(parts_.base, &EslClient::on_reconnect_timer, this);
  retry_timer_ = evtimer_new(parts_.base, &EslClient::on_retry_timer, this);
}

EslClient::~EslClient() {
  stop();
  event_free(reconnect_timer_);
  event_free(retry_timer_);
}

void EslClient::start() {
  if (state_ != State::kStopped) return;
  connect();
}

void EslClient::stop() {
  if (state_ == State::kStopped) return;
  state_ = State::kStopped;
  event_del(reconnect_timer_);
  event_del(retry_timer_);
  close_connection();
  node_metrics_->connected.store(0, std::memory_order_relaxed);
  // Last chance for what the spool refused so far; FreeSWITCH will not resend it.
  size_t dropped = 0;
  while (!backlog_.empty()) {
    EslFrame frame = std::move(backlog_.front());
    backlog_.pop_front();
    if (!handle_frame(frame)) {
      ++dropped;
      held_payload_.reset();
    }
  }
  if (!offer_not_durable()) {
    std::lock_guard<std::mutex> lock(not_durable_->mu);
    dropped += not_durable_->payloads.size();
    not_durable_->payloads.clear();
  }
  event_del(retry_timer_);
  if (dropped > 0) {
    spdlog::error("ESL {}: stopping with {} hangup event(s) the spool refused; they are lost", node_name(), dropped);
  }
  spdlog::info("ESL {}: stopped", node_name());
}

void EslClient::apply(std::shared_ptr<const NormalizeOptions> normalize) { normalize_ = std::move(normalize); }

void EslClient::connect() {
  if (connect_attempts_ > 0) node_metrics_->reconnects.fetch_add(1, std::memory_order_relaxed);
  ++connect_attempts_;
  state_ = State::kConnecting;
  phase_ = Phase::kAwaitAuthRequest;
  close_after_backlog_ = false;
  parser_ = std::make_unique<EslFrameParser>();
  // Deferred callbacks: a connect that fails at once reports from the loop,
  // never from inside bufferevent_socket_connect_hostname().
  bev_ = bufferevent_socket_new(parts_.base, -1, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
  if (!bev_) {
    lose_link(State::kWaiting, "cannot create a socket buffer");
    return;
  }
  bufferevent_setcb(bev_, &EslClient::on_read, nullptr, &EslClient::on_event, this);
  if (options_.max_single_read > 0) {
    bufferevent_set_max_single_read(bev_, options_.max_single_read);
  }
  // The read timeout is the heartbeat watchdog (FreeSWITCH sends HEARTBEAT
  // every 20 s by default); the write timeout bounds the TCP connect.
  const timeval silence = to_timeval(std::chrono::seconds(std::max(1, options_.node.heartbeat_timeout_s)));
  bufferevent_set_timeouts(bev_, &silence, &silence);
  bufferevent_enable(bev_, EV_WRITE);
  update_reading();
  spdlog::debug("ESL {}: connecting to {}:{}", node_name(), options_.node.host, options_.node.port);
  // No evdns base: a host name is resolved with a blocking getaddrinfo(),
  // instant for the numeric addresses FreeSWITCH nodes are usually given as.
  if (bufferevent_socket_connect_hostname(bev_, nullptr, AF_UNSPEC, options_.node.host.c_str(), options_.node.port) !=
      0) {
    const int dns_error = bufferevent_socket_get_dns_error(bev_);
    lose_link(State::kWaiting, std::string("cannot resolve or connect to ") + options_.node.host + ": " +
                                   (dns_error ? evutil_gai_strerror(dns_error) : std::strerror(errno)));
  }
}

void EslClient::close_connection() {
  if (bev_) bufferevent_free(bev_);
  bev_ = nullptr;
  parser_.reset();
  phase_ = Phase::kAwaitAuthRequest;
  close_after_backlog_ = false;
}

void EslClient::lose_link(State next, const std::string& why) {
  if (state_ == State::kStopped) return;
  const bool was_connected = state_ == State::kConnected;
  close_connection();
  node_metrics_->connected.store(0, std::memory_order_relaxed);
  // Replies and notices belonged to the closed session; events are kept.
  std::deque<EslFrame> events;
  for (auto& f : backlog_) {
    if (starts_with(f.content_type(), "text/event-")) events.push_back(std::move(f));
  }
  backlog_.swap(events);
  state_ = next;
  const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(
      backoff_.count() / 2, std::max<int64_t>(backoff_.count() / 2, backoff_.count()))(jitter_rng_));
  backoff_ = std::min(backoff_ * 2, options_.backoff_max);
  const std::string where = options_.node.host + ":" + std::to_string(options_.node.port);
  if (next == State::kAuthFailed) {
    spdlog::error("ESL {} ({}): {}; retrying in {} ms", node_name(), where, why, delay.count());
  } else if (was_connected) {
    spdlog::warn("ESL {} ({}): disconnected: {}; reconnecting in {} ms", node_name(), where, why, delay.count());
  } else {
    spdlog::warn("ESL {} ({}): {}; retrying in {} ms", node_name(), where, why, delay.count());
  }
  const timeval tv = to_timeval(delay);
  evtimer_add(reconnect_timer_, &tv);
}

void EslClient::on_reconnect_timer(evutil_socket_t, short, void* self) {
  auto* c = static_cast<EslClient*>(self);
  if (c->state_ != State::kStopped) c->connect();
}

void EslClient::on_event(bufferevent*, short what, void* self) {
  auto* c = static_cast<EslClient*>(self);
  if (what & BEV_EVENT_CONNECTED) {
    spdlog::info("ESL {}: TCP connected to {}:{}, authenticating", c->node_name(), c->options_.node.host,
                 c->options_.node.port);
    return;
  }
  std::string why;
  if (what & BEV_EVENT_TIMEOUT) {
    why = (what & BEV_EVENT_READING) ? "no byte received for " + std::to_string(c->options_.node.heartbeat_timeout_s) +
                                           " s (heartbeat timeout)"
                                     : "connect or write timed out";
  } else if (what & BEV_EVENT_EOF) {
    why = "connection closed by the server";
  } else {
    const int err = EVUTIL_SOCKET_ERROR();
    why = std::string("socket error: ") + evutil_socket_error_to_string(err);
  }
  if (c->parser_ && c->parser_->buffered() > 0) {
    why += " in the middle of a frame (" + std::to_string(c->parser_->buffered()) + " bytes dropped)";
  }
  c->lose_link(State::kWaiting, why);
}

void EslClient::on_read(bufferevent* bev, void* self) {
  auto* c = static_cast<EslClient*>(self);
  evbuffer* in = bufferevent_get_input(bev);
  std::vector<EslFrame> frames;
  std::string error;
  bool ok = true;
  while (ok && evbuffer_get_length(in) > 0) {
    std::array<evbuffer_iovec, 8> vec;
    const int n = evbuffer_peek(in, -1, nullptr, vec.data(), static_cast<int>(vec.size()));
    size_t used = 0;
    for (int i = 0; i < n && i < static_cast<int>(vec.size()) && ok; ++i) {
      ok = c->parser_->feed(std::string_view(static_cast<const char*>(vec[i].iov_base), vec[i].iov_len), &frames,
                            &error);
      used += vec[i].iov_len;
    }
    evbuffer_drain(in, used);
  }
  for (auto& f : frames) c->backlog_.push_back(std::move(f));
  if (!ok) {
    c->lose_link(State::kWaiting, "protocol error: " + error);
  }
  c->drain_backlog();
}

void EslClient::on_retry_timer(evutil_socket_t, short, void* self) { static_cast<EslClient*>(self)->drain_backlog(); }

void EslClient::drain_backlog() {
  bool refused = !offer_not_durable();
  while (!refused && !backlog_.empty()) {
    EslFrame frame = std::move(backlog_.front());
    backlog_.pop_front();
    if (!handle_frame(frame)) {
      backlog_.push_front(std::move(frame));
      refused = true;
    }
  }
  // Also while appends are in flight: one may come back not durable, and
  // FreeSWITCH may send nothing more to wake us.
  if (refused || unsynced_bytes_->load(std::memory_order_relaxed) > 0 || has_not_durable()) {
    const timeval tv = to_timeval(options_.spool_retry);
    evtimer_add(retry_timer_, &tv);
  }
  update_reading();
  if (backlog_.empty() && close_after_backlog_) {
    lose_link(State::kWaiting, "the server sent text/disconnect-notice");
  }
}

void EslClient::update_reading() {
  if (!bev_) return;
  if (backlog_.empty() && !has_not_durable()) {
    bufferevent_enable(bev_, EV_READ);
  } else {
    // Not reading pushes back on FreeSWITCH through TCP; memory stays bounded.
    bufferevent_disable(bev_, EV_READ);
  }
}

void EslClient::send(const std::string& command) {
  if (bev_) bufferevent_write(bev_, command.data(), command.size());
}

bool EslClient::handle_frame(const EslFrame& frame) {
  const std::string_view type = frame.content_type();
  if (starts_with(type, "text/event-")) return handle_event(frame);
  if (type == "auth/request") {
    if (phase_ == Phase::kAwaitAuthRequest && bev_) {
      send("auth " + options_.node.password + "\n\n");
      phase_ = Phase::kAwaitAuthReply;
    }
  } else if (type == "command/reply") {
    handle_reply(frame);
  } else if (type == "text/disconnect-notice") {
    if (frame.header("Content-Disposition") == "linger") {
      spdlog::info("ESL {}: the server announced a disconnect (linger); reading on", node_name());
    } else if (bev_) {
      close_after_backlog_ = true;
    }
  } else if (type == "text/rude-rejection") {
    spdlog::error("ESL {}: the server refused this client (event_socket.conf.xml apply-inbound-acl?): {}", node_name(),
                  frame.body);
  } else {
    spdlog::debug("ESL {}: ignoring a frame of type '{}'", node_name(), type);
  }
  return true;
}

void EslClient::handle_reply(const EslFrame& frame) {
  const std::string_view reply = frame.header("Reply-Text");
  if (phase_ == Phase::kAwaitAuthReply) {
    if (starts_with(reply, "+OK")) {
      send("event " + options_.node.format + " CHANNEL_HANGUP_COMPLETE HEARTBEAT\n\n");
      phase_ = Phase::kAwaitSubscribeReply;
      return;
    }
    node_metrics_->auth_failures.fetch_add(1, std::memory_order_relaxed);
    lose_link(State::kAuthFailed, "wrong password: the server answered '" + std::string(reply) +
                                      "' to auth (check freeswitch[].password against event_socket.conf.xml)");
    return;
  }
  if (phase_ == Phase::kAwaitSubscribeReply) {
    if (!starts_with(reply, "+OK")) {
      lose_link(State::kWaiting, "the server refused the event subscription: '" + std::string(reply) + "'");
      return;
    }
    phase_ = Phase::kSubscribed;
    state_ = State::kConnected;
    backoff_ = options_.backoff_initial;
    node_metrics_->connected.store(1, std::memory_order_relaxed);
    spdlog::info("ESL {}: connected to {}:{}, subscribed to CHANNEL_HANGUP_COMPLETE ({})", node_name(),
                 options_.node.host, options_.node.port, options_.node.format);
  }
}

bool EslClient::handle_event(const EslFrame& frame) {
  if (!held_payload_) {
    node_metrics_->events.fetch_add(1, std::memory_order_relaxed);
    EslEvent event;
    std::string error;
    NormalizeError refused;
    if (!parse_esl_event(frame, &event, &error)) {
      refused = NormalizeError{"invalid_event", error};
    } else if (event.name() != kHangup) {
      return true;  // HEARTBEAT: the read itself fed the watchdog
    } else {
      parts_.metrics->received_esl.fetch_add(1, std::memory_order_relaxed);
      NormalizeResult result = normalize_esl_event(event, *normalize_);
      if (result.ok()) {
        held_payload_ = encode_spool_payload(result.record);
      } else {
        refused = result.error;
      }
    }
    if (!held_payload_) {
      ++events_rejected_;
      parts_.metrics->rejected.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("ESL {}: refused an event: {}: {}", node_name(), refused.code, refused.message);
      if (parts_.rejects) {
        RejectedInput input;
        input.request_id = "esl-" + file_safe(node_name()) + "-" + std::to_string(events_rejected_);
        input.route = reject_route_;
        input.code = refused.code;
        input.message = refused.message;
        input.content_type = std::string(frame.content_type());
        input.remote = options_.node.host + ":" + std::to_string(options_.node.port);
        input.body = frame.body;
        std::string node = node_name();
        parts_.rejects->save(std::move(input), [node](bool saved) {
          if (!saved) spdlog::error("ESL {}: could not keep a refused event in the rejects store", node);
        });
      }
      return true;
    }
  }
  if (state_ != State::kStopped && unsynced_bytes_->load(std::memory_order_relaxed) > options_.max_unsynced_bytes) {
    return false;  // the sync thread is behind: wait for it rather than pile records up in memory
  }
  bool full = false;
  if (append_to_spool(&*held_payload_, &full)) {
    held_payload_.reset();
    ++events_spooled_;
    return true;
  }
  if (node_metrics_->spool_refusals.fetch_add(1, std::memory_order_relaxed) % 100 == 0) {
    spdlog::warn("ESL {}: the spool {} a hangup event; reading paused until it is taken", node_name(),
                 full ? "is full and refused" : "failed and refused");
  }
  return false;
}

bool EslClient::append_to_spool(std::string* payload, bool* full) {
  // append() takes a copy; the callback keeps the record until it is durable,
  // to hand it back if the write fails.
  auto keep = std::make_shared<std::string>(std::move(*payload));
  const uint64_t size = keep->size();
  unsynced_bytes_->fetch_add(size, std::memory_order_relaxed);
  const Spool::AppendResult status = parts_.spool->append(
      *keep, [node = node_name(), unsynced = unsynced_bytes_, retry = not_durable_, keep, size](bool durable) {
        if (!durable) {
          std::lock_guard<std::mutex> lock(retry->mu);
          retry->payloads.push_back(std::move(*keep));
        }
        // After the hand-back: whoever sees nothing in flight also sees it.
        unsynced->fetch_sub(size, std::memory_order_relaxed);
        if (!durable) spdlog::warn("ESL {}: the spool failed to store a hangup event; it is offered again", node);
      });
  if (status == Spool::AppendResult::kQueued) return true;
  unsynced_bytes_->fetch_sub(size, std::memory_order_relaxed);
  *payload = std::move(*keep);
  *full = status == Spool::AppendResult::kFull;
  return false;
}

bool EslClient::offer_not_durable() {
  for (;;) {
    std::string payload;
    {
      std::lock_guard<std::mutex> lock(not_durable_->mu);
      if (not_durable_->payloads.empty()) return true;
      payload = std::move(not_durable_->payloads.front());
      not_durable_->payloads.pop_front();
    }
    bool full = false;
    if (!append_to_spool(&payload, &full)) {
      std::lock_guard<std::mutex> lock(not_durable_->mu);
      not_durable_->payloads.push_front(std::move(payload));
      return false;
    }
  }
}

bool EslClient::has_not_durable() const {
  std::lock_guard<std::mutex> lock(not_durable_->mu);
  return !not_durable_->payloads.empty();
}

}  // namespace cdrd
