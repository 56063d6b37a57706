// A private PostgreSQL server run as a child process: the daemon's
// `database.dsn: embedded` and every test that needs a database use it.
// initdb on first start (as a non-root user: when cdrd runs as root the
// server runs as options.run_as_user), pg_ctl-free: postgres is forked and
// exec'd directly so its pid is ours to signal.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace cdrd {

struct EmbeddedPostgresOptions {
  std::string data_dir;                  // PGDATA; initdb'd when it has no PG_VERSION
  std::string socket_dir;                // unix socket directory (created)
  std::string bin_dir;                   // "" = newest /usr/lib/postgresql/*/bin, else `pg_config --bindir`
  std::string run_as_user = "postgres";  // used only when our euid is 0
  // TCP: 0 = unix socket only (port 5432 names the socket file);
  // -1 = pick a free port on 127.0.0.1 (tests); >0 = that port on 127.0.0.1.
  int port = 0;
  std::string database = "cdrd";      // created if missing
  std::string user = "cdrd";          // superuser created by initdb
  std::vector<std::string> settings;  // extra "name=value" server settings
  std::string log_file;               // server log; "" = data_dir/../postgres.log
  // Tests only: initdb --no-sync, fsync=off, synchronous_commit=off. Never
  // for the daemon: a power loss would corrupt the cluster.
  bool fast_unsafe = false;
  // The server gets SIGINT (fast shutdown) when the thread that started it
  // ends, so a killed owner never leaves it holding data_dir. false: it
  // outlives its starter (the tests' shared cluster, stopped by command).
  bool stop_with_owner = true;
  // The caller guarantees that no live owner uses data_dir (cdrd holds
  // state_dir's lock), so a server still running on it can only be the
  // leftover of an owner that died (kill -9: that server is still in its
  // fast shutdown). start() then waits up to leftover_timeout for it to exit,
  // logging what it waits for, and stops it if it does not: SIGQUIT
  // (immediate shutdown), then SIGKILL of every process left on data_dir.
  // false: such a server makes start() fail, as postgres itself refuses.
  bool stop_leftover_server = false;
  std::chrono::milliseconds leftover_timeout{30000};
};

// Stops the PostgreSQL server running on `data_dir`, if any, and waits until
// no process is left on it: SIGINT (fast shutdown) and up to `timeout`, then
// SIGQUIT (immediate), then SIGKILL. For servers this process did not start
// (a leftover, a released server). False with *error if processes remain.
// `leftover`: the log says the server is that of an earlier owner that died.
bool stop_server_on(const std::string& data_dir, std::chrono::milliseconds timeout, std::string* error,
                    bool leftover = false);

class EmbeddedPostgres {
 public:
  explicit EmbeddedPostgres(EmbeddedPostgresOptions options);
  ~EmbeddedPostgres();  // stops the server (fast shutdown) if we started it

  // initdb if needed, start, wait until it accepts connections (up to 60 s),
  // create the database. False with *error (including the log's tail) on failure.
  bool start(std::string* error);
  // Fast shutdown, waits for exit. Idempotent.
  bool stop(std::string* error);
  // SIGKILL the postmaster (fault tests). Children exit by themselves.
  void kill_hard();
  // Forgets the server without stopping it (with stop_with_owner = false it
  // then runs on alone; stop it with stop_server_on()).
  void release() { pid_ = -1; }

  bool running() const;
  pid_t pid() const;
  int port() const;  // the resolved port
  // libpq conninfo for the database, e.g. "host=/x/run port=5432 dbname=cdrd user=cdrd".
  std::string dsn() const;
  // The same for another database of this server.
  std::string dsn_for(const std::string& database) const;

 private:
  bool wait_ready(std::chrono::steady_clock::time_point deadline, std::string* last_error);
  bool create_database(std::string* error);

  EmbeddedPostgresOptions options_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace cdrd
