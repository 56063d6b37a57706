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
};

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
