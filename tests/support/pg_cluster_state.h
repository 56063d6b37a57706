// The file through which the ctest fixture (pg_cluster.cpp) tells the test
// processes where the run's PostgreSQL server is: "key=value" lines.
#pragma once

#include <sys/types.h>

#include <string>

namespace cdrd::test {

constexpr char kTemplateDatabase[] = "cdrd_template";  // migrations applied; connections not allowed

struct ClusterState {
  std::string dir;       // the temp dir holding data/, run/ and postgres.log
  std::string data_dir;  // PGDATA
  std::string host;      // unix socket directory
  int port = 0;
  std::string user;
  pid_t pid = 0;  // the postmaster
};

// False with *error when the file is missing or incomplete.
bool read_cluster_state(const std::string& path, ClusterState* out, std::string* error);
// Written to a temp file and renamed, so readers never see half of it.
void write_cluster_state(const std::string& path, const ClusterState& state);

}  // namespace cdrd::test
