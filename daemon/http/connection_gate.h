// ConnectionGate: the connection-level limits of the HTTP listeners, on the
// loop thread.
//
//   limits.max_connections   open connections of every listener together. At
//                            the limit the listeners stop accepting, so new
//                            connections wait in the kernel's backlog (they
//                            are neither refused nor dropped); the first close
//                            re-enables them.
//   limits.request_timeout_s a whole request (request line, headers and body)
//                            must arrive within this time of the connection
//                            being ready for it: the accept, or the end of the
//                            previous reply on a keep-alive connection. evhttp's
//                            own timeout is per read, so a client trickling one
//                            byte at a time (slowloris) would otherwise hold
//                            its connection for ever.
//
// libevent 2.1 has no connection-open or connection-close hook for a server.
// Open: the listener's bufferevent callback (evhttp_set_bevcb) hands every new
// connection's bufferevent to track(). Close: evhttp_connection_set_closecb,
// which evhttp_connection_free runs exactly once for an incoming connection.
// The evhttp_connection does not exist yet while track() runs, so the gate
// keeps a reference on the bufferevent and adopts the connection one step
// later on the loop (the bufferevent's callback argument is its
// evhttp_connection). A connection can have only one close callback: a
// StreamReply watches its connection through watch_close().
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace cdrd {

struct Metrics;

class ConnectionGate {
 public:
  struct Limits {
    int max_connections = 4096;
    int request_timeout_s = 30;
    uint64_t max_body_bytes = 4u << 20;  // named in the JSON 413 (http_error_json.h)
  };

  ConnectionGate(event_base* base, Metrics* metrics);
  ~ConnectionGate();
  ConnectionGate(const ConnectionGate&) = delete;
  ConnectionGate& operator=(const ConnectionGate&) = delete;

  // A listener whose connections count against the limit.
  void add_listener(evconnlistener* listener);
  // Before evhttp_free(), which frees the listeners and then every
  // connection (whose close callbacks must not touch the listeners).
  void forget_listeners();
  // New limits (SIGHUP); they apply at once to accepting, and to the next
  // request's deadline.
  void set_limits(const Limits& limits);

  // The evhttp_set_bevcb hook: `bev` is the bufferevent made for a connection
  // just accepted (no fd yet). Returns it unchanged; null stays null.
  bufferevent* track(bufferevent* bev);

  // The request has been read whole and goes to cdrd's handler: its
  // connection's deadline stops until the reply has been sent.
  void request_read(evhttp_request* req);

  // `cb(conn, arg)` runs when libevent frees `conn`; a null cb stops it. For
  // a connection the gate does not track this is evhttp_connection_set_closecb.
  void watch_close(evhttp_connection* conn, void (*cb)(evhttp_connection*, void*), void* arg);

  int open() const { return open_; }
  // Requests read whole whose reply libevent has not finished writing: a
  // reply handed to evhttp still sits in the connection's output buffer
  // until the loop writes it, so a drain waits for this to reach 0 too.
  int unsent_replies() const { return unsent_replies_; }
  bool accepting() const { return accepting_; }

 private:
  struct Conn;
  static void on_adopt(evutil_socket_t fd, short what, void* self);
  static void on_close(evhttp_connection* conn, void* arg);
  static void on_deadline(evutil_socket_t fd, short what, void* arg);
  static void on_reply_sent(evhttp_request* req, void* arg);
  void arm(Conn* c);
  void release(Conn* c);
  void update_accepting();
  void set_open(int open);

  event_base* base_;
  Metrics* metrics_;
  Limits limits_;
  timeval deadline_tv_{};  // a common timeout of base_: O(1) for thousands of timers
  event* adopt_ev_ = nullptr;
  std::vector<Conn*> pending_;  // tracked, not yet adopted
  std::unordered_map<evhttp_connection*, Conn*> conns_;
  std::vector<evconnlistener*> listeners_;
  int open_ = 0;
  int unsent_replies_ = 0;
  bool accepting_ = true;
  std::chrono::steady_clock::time_point last_limit_log_{};
};

}  // namespace cdrd
