// Daemon: owns every long-lived part of cdrd and its start/stop order.
//
// Threads (see ARCHITECTURE.md): the ingest loop runs in run() on the
// calling thread and owns libevent and evhttp; the Spool owns its sync
// thread; the BatchWriter its writer thread and connection; the ReadPool
// its query threads and connections; RejectStore its file-writing thread.
// Start order: database (embedded PostgreSQL, migrations) -> spool ->
// writer -> read pool -> HTTP listener -> READY=1. Stop (SIGTERM/SIGINT):
// STOPPING=1, ingest answers 503, wait until every accepted request is
// answered, leave the loop, stop the writer after its in-flight batch, flush
// the spool, stop the embedded server; all of it within
// limits.drain_timeout_s, else the process exits 1 at the deadline (nothing
// acknowledged is lost: the spool keeps it). SIGHUP: RELOADING=1, reload or
// keep the running configuration, READY=1. WATCHDOG=1 only while the loop
// runs (the timer fires) and the batch writer makes progress.
#pragma once

#include <memory>
#include <string>

#include "daemon/config/config.h"

namespace cdrd {

class Daemon {
 public:
  Daemon(Config config, std::string config_path);
  ~Daemon();
  // Runs until SIGTERM/SIGINT. Returns the process exit code (0 after a
  // complete drain); exits the process with 1 itself when the drain deadline
  // cuts the stop short.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Installs the spdlog default logger for `level` / `format` (text or json).
void setup_logging(const std::string& level, const std::string& format);

}  // namespace cdrd
