// EslClient: one FreeSWITCH Event Socket (mod_event_socket) inbound link.
//
// Thread: everything, libevent objects included, runs on the ingest loop
// (the event_base given in Parts); no method may be called from another
// thread. The only cross-thread hand-over is Spool::append() (which never
// blocks; its durable callback runs on the spool's sync thread and touches
// nothing of the client) and RejectStore::save().
//
// Owns: one bufferevent (the TCP connection), its EslFrameParser, a
// reconnect timer, a spool-retry timer, and at most the frames of one socket
// read that the spool has not yet taken (memory is bounded: while the spool
// refuses, or holds more than max_unsynced_bytes of this client's records
// not yet fdatasync'd, the socket is not read and TCP pushes back on
// FreeSWITCH).
//
// Session: connect -> auth/request -> "auth <password>" -> +OK accepted ->
// "event plain|json CHANNEL_HANGUP_COMPLETE HEARTBEAT" -> +OK -> connected.
// Every CHANNEL_HANGUP_COMPLETE is normalized (same NormalizeOptions as the
// HTTP routes) and appended to the spool; a refused normalization keeps the
// raw event in the rejects store (route "esl:<node>"). Any loss of the link
// (EOF, error, protocol error, disconnect-notice, -ERR invalid, no byte for
// heartbeat_timeout_s) closes it and reconnects after a capped exponential
// back-off with jitter, forever, until stop().
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "adapters/freeswitch/esl_frame.h"
#include "adapters/freeswitch/normalize.h"
#include "daemon/config/config.h"

namespace cdrd {

class RejectStore;
class Spool;
struct EslNodeMetrics;
struct Metrics;

struct EslClientOptions {
  FreeswitchNode node;
  // First reconnect delay; doubled after each failed attempt up to
  // backoff_max, back to backoff_initial once a session got subscribed. The
  // wait is drawn uniformly from [delay/2, delay] (jitter: many cdrd
  // instances restarted together do not reconnect in lock-step).
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30000};
  // How often a hangup the spool refused (or that waits for fsync to catch
  // up) is offered again.
  std::chrono::milliseconds spool_retry{20};
  // Bytes handed to the spool but not yet durable (its sync thread holds
  // them in memory) above which reading pauses until fsync catches up.
  uint64_t max_unsynced_bytes = 8ull << 20;
  // Largest single socket read; 0 = libevent's default. Tests set 1 to feed
  // the parser the stream split at every byte.
  size_t max_single_read = 0;
};

class EslClient {
 public:
  struct Parts {
    event_base* base = nullptr;
    Spool* spool = nullptr;
    RejectStore* rejects = nullptr;  // optional: refused events are then only logged
    Metrics* metrics = nullptr;
  };

  enum class State {
    kStopped,     // not started, or stop() called
    kConnecting,  // TCP connect, auth and subscription in progress
    kConnected,   // authenticated and subscribed: events flow
    kWaiting,     // link lost; reconnecting after the back-off
    kAuthFailed,  // the server said -ERR invalid (wrong password); retrying after the back-off
  };
  static const char* state_name(State state);

  EslClient(Parts parts, EslClientOptions options, std::shared_ptr<const NormalizeOptions> normalize);
  ~EslClient();
  EslClient(const EslClient&) = delete;
  EslClient& operator=(const EslClient&) = delete;

  // Connects now (and keeps reconnecting until stop()).
  void start();
  // Closes the link and cancels every timer. Hangups the spool has not taken
  // yet are offered once more, then dropped with an error log.
  void stop();
  // Normalization rules for the events received from now on (SIGHUP).
  void apply(std::shared_ptr<const NormalizeOptions> normalize);

  State state() const { return state_; }
  const std::string& node_name() const { return options_.node.name; }
  // Hangups handed to the spool (queued) since construction.
  uint64_t events_spooled() const { return events_spooled_; }
  // Hangups whose normalization was refused (kept in the rejects store).
  uint64_t events_rejected() const { return events_rejected_; }
  // TCP connection attempts since construction.
  uint64_t connect_attempts() const { return connect_attempts_; }

 private:
  enum class Phase { kAwaitAuthRequest, kAwaitAuthReply, kAwaitSubscribeReply, kSubscribed };

  static void on_read(bufferevent* bev, void* self);
  static void on_event(bufferevent* bev, short what, void* self);
  static void on_reconnect_timer(evutil_socket_t, short, void* self);
  static void on_retry_timer(evutil_socket_t, short, void* self);

  void connect();
  // Drops the connection and schedules the next attempt.
  void lose_link(State next, const std::string& why);
  void close_connection();
  void schedule_reconnect();
  // Handles queued frames in order; stops at a hangup the spool refused.
  void drain_backlog();
  // False when the frame must stay queued (the spool refused it).
  bool handle_frame(const EslFrame& frame);
  bool handle_event(const EslFrame& frame);
  void handle_reply(const EslFrame& frame);
  void send(const std::string& command);
  void update_reading();
  // Hands `*payload` to the spool. True when queued; false when refused
  // (*payload is kept; *full tells kFull from kFailed).
  bool append_to_spool(std::string* payload, bool* full);
  // Appends again the records whose spool write failed; false when the spool
  // refused one (it stays first in line).
  bool offer_not_durable();
  bool has_not_durable() const;

  Parts parts_;
  EslClientOptions options_;
  std::shared_ptr<const NormalizeOptions> normalize_;
  EslNodeMetrics* node_metrics_;
  std::string reject_route_;

  State state_ = State::kStopped;
  Phase phase_ = Phase::kAwaitAuthRequest;
  bufferevent* bev_ = nullptr;
  std::unique_ptr<EslFrameParser> parser_;
  event* reconnect_timer_ = nullptr;
  event* retry_timer_ = nullptr;
  bool close_after_backlog_ = false;  // a disconnect-notice arrived: reconnect once its frames are handled

  // Frames received but not handled yet (only while the spool refuses).
  std::deque<EslFrame> backlog_;
  std::optional<std::string> held_payload_;  // the encoded record of backlog_.front()
  // Shared with the spool's durable callbacks, which may outlive the client.
  std::shared_ptr<std::atomic<uint64_t>> unsynced_bytes_ = std::make_shared<std::atomic<uint64_t>>(0);
  // Records the spool took but then failed to write (a full disk: the
  // frames were cut back out). FreeSWITCH will not send them again, so the
  // durable callback hands them back here and the loop offers them again
  // before it reads on. Bounded by max_unsynced_bytes, like what is in flight.
  struct NotDurable {
    std::mutex mu;
    std::deque<std::string> payloads;
  };
  std::shared_ptr<NotDurable> not_durable_ = std::make_shared<NotDurable>();

  std::chrono::milliseconds backoff_;
  std::mt19937 jitter_rng_;

  uint64_t events_spooled_ = 0;
  uint64_t events_rejected_ = 0;
  uint64_t connect_attempts_ = 0;
};

}  // namespace cdrd
