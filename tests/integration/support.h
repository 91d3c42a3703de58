// Shared helpers for integration tests: the real servers come from
// scripts/test-servers through environment variables. A missing variable is
// a loud failure, never a silent skip.
#pragma once
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "connectors/postgres/pg_connection.h"
#include "core/spec.h"
#include "../shared/eventually.h"  // eventually()

namespace ferry::test {

// Value of a required environment variable; fails the test when unset (test_env.h).
std::string env_or_fail(const char* name);

// A fresh PostgreSQL database and ClickHouse database for one test, dropped at the end.
class Sandbox {
 public:
  explicit Sandbox(const std::string& tag);
  ~Sandbox();

  const std::string& name() const { return name_; }
  std::string pg_dsn() const;              // conninfo of the sandbox database (superuser)
  PgConnection& pg() { return *pg_; }      // superuser connection to the sandbox database
  void pg_exec(const std::string& sql);
  std::vector<std::vector<std::string>> pg_rows(const std::string& sql);  // NULL as "\\N"
  std::string pg_value(const std::string& sql);
  // Drops a replication slot, as an outage would, once the walsender of a pipe that just
  // stopped has released it (it does so a moment after the connection closed).
  void pg_drop_slot(const std::string& slot);

  std::string ch(const std::string& sql);  // throws on HTTP/ClickHouse error
  std::string ch_value(const std::string& sql);  // first line, trailing newline removed
  std::vector<std::vector<std::string>> ch_rows(const std::string& sql);  // TSV, unescaped

  PeerSpec pg_peer() const;
  PeerSpec ch_peer() const;
  std::string dir() const { return dir_; }  // temp dir for catalogs and configs
  std::string catalog_path() const { return dir_ + "/catalog.db"; }
  // Writes dir()/ferry.yaml with peers `src` (this PostgreSQL database) and `dst` (this
  // ClickHouse database) followed by `pipes_yaml` (the lines under `pipes:`); returns its path.
  std::string write_config(const std::string& pipes_yaml) const;

 private:
  std::string name_;
  std::string dir_;
  std::unique_ptr<PgConnection> admin_;
  std::unique_ptr<PgConnection> pg_;
};

// `database`.`table` of the sandbox's ClickHouse database, quoted.
std::string ch_table(const Sandbox& sb, const std::string& table);

// The pid of server `name` ("pg", "ch", "my") of scripts/test-servers, from its pid file
// in FERRY_SERVERS_DIR; 0 when the file holds none.
pid_t test_server_pid(const std::string& name);

// A loopback TCP port nothing listened on a moment ago (bound, read, closed).
int free_loopback_port();

// Waits until `pipe` in the catalog at `catalog_location` (written by another process)
// has at least `partitions` partitions of its first table done; false after `seconds`.
bool partitions_done(const std::string& catalog_location, const std::string& pipe, int64_t partitions,
                     int seconds = 30);

// A snapshot load cut short by kill -9: partitions of the pipe's first table done at the kill, of total.
struct CutLoad {
  int64_t done = 0, total = 0;
};
// Starts `ferry run -f config --catalog catalog`, kill -9s it once `pipe` has `partitions`
// partitions of its first table done, and reads what the catalog kept into `cut`. Fails
// (fatally) unless the load was cut short: state Snapshot, some but not all partitions done.
void kill_nine_mid_load(const std::string& config, const std::string& catalog, const std::string& pipe,
                        int64_t partitions, CutLoad& cut);
// Runs `ferry run` again to the end: fails unless it exits 0 having loaded only the partitions
// the cut load left (its "N partitions to load").
void finish_cut_load(const std::string& config, const std::string& catalog, const CutLoad& cut);

// Starts `ferry run -f CONFIG --catalog CATALOG --no-progress [extra...]` as a child process
// (for kill -9 tests); returns its pid.
pid_t spawn_ferry_run(const std::string& config, const std::string& catalog, const std::vector<std::string>& extra = {});

// Sends SIGTERM to a `ferry run` child and waits: true when it exited 0 (checkpointed and stopped).
bool stop_ferry_run(pid_t pid);
// Waits for a child and tells whether SIGKILL ended it (FERRY_CRASH_AT crash points).
bool killed_by_sigkill(pid_t pid);
// `rounds` times: starts `ferry run`, lets it work for min_ms + a random share of spread_ms
// (rng seeded with `seed`), and kill -9s it.
void kill_nine_rounds(const std::string& config, const std::string& catalog, int rounds, unsigned seed,
                      int min_ms = 600, int spread_ms = 1200);
// Polls the catalog until `pipe` is in `state` (up to `seconds`).
bool reaches_state(Catalog& catalog, const std::string& pipe, PipeState state, int seconds = 60);

// Runs the ferry binary with arguments; returns the exit code, output in `out` (stdout+stderr).
int run_ferry(const std::vector<std::string>& args, std::string* out = nullptr);

std::string write_file(const std::string& path, const std::string& content);
// The whole file ("" when it cannot be read).
std::string read_file(const std::string& path);

// Removes a file when the scope ends: declared after a pipe held by a hold file
// (TestHooks::hold_file), a failed assertion never leaves the pipe waiting on it.
struct FileRemovedAtExit {
  std::string path;
  ~FileRemovedAtExit();
};

}  // namespace ferry::test
