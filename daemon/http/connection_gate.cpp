#include "daemon/http/connection_gate.h"

#include <event2/buffer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "daemon/core/metrics.h"
#include "daemon/http/http_error_json.h"

namespace cdrd {

struct ConnectionGate::Conn {
  ConnectionGate* gate = nullptr;
  bufferevent* bev = nullptr;  // valid until libevent frees the connection
  bool bev_ref = false;        // the gate's own reference, dropped on adoption
  evhttp_connection* evcon = nullptr;
  event* deadline = nullptr;
  HttpErrorJson error_json;
  void (*close_cb)(evhttp_connection*, void*) = nullptr;
  void* close_arg = nullptr;
  int unsent_replies = 0;  // requests read whose reply is not written yet
};

ConnectionGate::ConnectionGate(event_base* base, Metrics* metrics) : base_(base), metrics_(metrics) {
  adopt_ev_ = event_new(base_, -1, 0, &ConnectionGate::on_adopt, this);
  set_limits(limits_);
}

ConnectionGate::~ConnectionGate() {
  // evhttp_free() ran first and closed every adopted connection; what is
  // left was accepted in this very loop step.
  for (Conn* c : pending_) {
    c->error_json.detach();
    if (c->bev_ref) bufferevent_decref(c->bev);
    event_free(c->deadline);
    delete c;
  }
  for (auto& [evcon, c] : conns_) {
    c->error_json.detach();
    event_free(c->deadline);
    delete c;
  }
  event_free(adopt_ev_);
}

void ConnectionGate::add_listener(evconnlistener* listener) {
  listeners_.push_back(listener);
  if (!accepting_) evconnlistener_disable(listener);
}

void ConnectionGate::forget_listeners() { listeners_.clear(); }

void ConnectionGate::set_limits(const Limits& limits) {
  limits_ = limits;
  const timeval tv{std::max(1, limits_.request_timeout_s), 0};
  // Every deadline has the same duration: a common timeout keeps thousands
  // of them in a queue instead of the heap.
  const timeval* common = event_base_init_common_timeout(base_, &tv);
  deadline_tv_ = common ? *common : tv;
  update_accepting();
}

bufferevent* ConnectionGate::track(bufferevent* bev) {
  if (!bev) return nullptr;
  auto* c = new Conn;
  c->gate = this;
  c->bev = bev;
  // Keeps the bufferevent's memory until adoption even if evhttp frees the
  // connection at once (then its callbacks are null when we look).
  bufferevent_incref(bev);
  c->bev_ref = true;
  c->deadline = evtimer_new(base_, &ConnectionGate::on_deadline, c);
  c->error_json.attach(bufferevent_get_output(bev), limits_.max_body_bytes, &metrics_->http_errors_rewritten);
  arm(c);
  pending_.push_back(c);
  event_active(adopt_ev_, EV_TIMEOUT, 1);
  set_open(open_ + 1);
  update_accepting();
  return bev;
}

void ConnectionGate::on_adopt(evutil_socket_t, short, void* self) {
  auto* gate = static_cast<ConnectionGate*>(self);
  std::vector<Conn*> pending;
  pending.swap(gate->pending_);
  for (Conn* c : pending) {
    bufferevent_event_cb eventcb = nullptr;
    void* arg = nullptr;
    bufferevent_getcb(c->bev, nullptr, nullptr, &eventcb, &arg);
    if (eventcb == nullptr || arg == nullptr) {
      // evhttp gave the connection up while setting it up (bufferevent_free
      // cleared the callbacks): it is already gone.
      gate->release(c);
      continue;
    }
    // evhttp's bufferevent callbacks get the evhttp_connection as argument.
    c->evcon = static_cast<evhttp_connection*>(arg);
    evhttp_connection_set_closecb(c->evcon, &ConnectionGate::on_close, c);
    gate->conns_[c->evcon] = c;
    c->bev_ref = false;
    bufferevent_decref(c->bev);
  }
}

void ConnectionGate::on_close(evhttp_connection* conn, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  if (c->close_cb) c->close_cb(conn, c->close_arg);
  c->gate->conns_.erase(conn);
  c->gate->release(c);
}

void ConnectionGate::release(Conn* c) {
  // The bufferevent is still alive here: evhttp runs the close callback
  // before freeing it, and an unadopted one is held by bev_ref.
  unsent_replies_ -= c->unsent_replies;  // the peer went away first
  c->error_json.detach();
  event_free(c->deadline);
  if (c->bev_ref) bufferevent_decref(c->bev);
  delete c;
  set_open(open_ - 1);
  update_accepting();
}

void ConnectionGate::on_deadline(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  if (!c->evcon) return;  // not adopted yet: cannot happen within one loop step
  c->gate->metrics_->http_request_deadline_cuts.fetch_add(1, std::memory_order_relaxed);
  spdlog::debug("closing an HTTP connection: no whole request within limits.request_timeout_s ({} s)",
                c->gate->limits_.request_timeout_s);
  // No request of this connection is with cdrd's handler (request_read()
  // stopped the deadline then), so libevent owns everything it frees here.
  // The close callback runs inside and deletes c.
  evhttp_connection_free(c->evcon);
}

void ConnectionGate::arm(Conn* c) { evtimer_add(c->deadline, &deadline_tv_); }

void ConnectionGate::request_read(evhttp_request* req) {
  evhttp_connection* evcon = evhttp_request_get_connection(req);
  auto it = evcon ? conns_.find(evcon) : conns_.end();
  if (it == conns_.end()) return;
  evtimer_del(it->second->deadline);
  ++it->second->unsent_replies;
  ++unsent_replies_;
  // Runs when the reply has been written (not for a connection that closes
  // first: the close callback frees c, and evhttp never calls this then).
  evhttp_request_set_on_complete_cb(req, &ConnectionGate::on_reply_sent, it->second);
}

void ConnectionGate::on_reply_sent(evhttp_request*, void* arg) {
  auto* c = static_cast<Conn*>(arg);
  if (c->unsent_replies > 0) {
    --c->unsent_replies;
    --c->gate->unsent_replies_;
  }
  c->gate->arm(c);  // the next request on this keep-alive connection
}

void ConnectionGate::watch_close(evhttp_connection* conn, void (*cb)(evhttp_connection*, void*), void* arg) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) {
    evhttp_connection_set_closecb(conn, cb, arg);
    return;
  }
  it->second->close_cb = cb;
  it->second->close_arg = arg;
}

void ConnectionGate::update_accepting() {
  const bool accept = open_ < limits_.max_connections;
  if (accept == accepting_) return;
  accepting_ = accept;
  for (evconnlistener* listener : listeners_) {
    if (accept) {
      evconnlistener_enable(listener);
    } else {
      evconnlistener_disable(listener);
    }
  }
  if (!accept) {
    metrics_->http_connection_limit_hits.fetch_add(1, std::memory_order_relaxed);
    // At most one line every 10 s: under a flood the gate closes and opens
    // with every connection.
    const auto now = std::chrono::steady_clock::now();
    if (now - last_limit_log_ >= std::chrono::seconds(10)) {
      last_limit_log_ = now;
      spdlog::warn("{} HTTP connections open (limits.max_connections): new ones wait in the backlog", open_);
    }
  }
}

void ConnectionGate::set_open(int open) {
  open_ = open;
  metrics_->http_connections.store(open_, std::memory_order_relaxed);
}

}  // namespace cdrd
