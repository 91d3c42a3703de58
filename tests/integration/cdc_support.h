// Helpers for tests of streaming pipes: a pipe running in a background thread,
// and comparing a table's live rows between PostgreSQL and ClickHouse.
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "catalog/catalog.h"
#include "pipe/runner.h"
#include "support.h"

namespace ferry::test {

using namespace std::chrono_literals;

// A pipe `name` from peer "src" to "dst" moving `tables`, with settings for quick
// tests (parallel load, 200 ms sync interval, no retries).
PipeSpec pg_to_ch_pipe(const std::string& name, const std::vector<std::string>& tables,
                       PipeMode mode = PipeMode::SnapshotCdc);

// Runs a pipe in a background thread until stop() (or pause()).
class BackgroundPipe {
 public:
  // `hooks` (may be null; must outlive this): crash and hold points for the runner.
  BackgroundPipe(Sandbox& sb, Catalog& catalog, const PipeSpec& pipe, const TestHooks* hooks = nullptr);
  // The same from another source peer (a MariaDB database's).
  BackgroundPipe(Sandbox& sb, Catalog& catalog, const PipeSpec& pipe, const PeerSpec& source,
                 const TestHooks* hooks = nullptr);
  // ... and another destination peer (a PostgreSQL database's).
  BackgroundPipe(Catalog& catalog, const PipeSpec& pipe, const PeerSpec& source, const PeerSpec& destination,
                 const TestHooks* hooks = nullptr);
  ~BackgroundPipe() { stop(); }
  PipeState stop();
  // Requests a pause (must be accepted) and waits for run() to return.
  PipeState pause();
  // Success once the pipe is in `state`; failure when it fails or time runs out.
  ::testing::AssertionResult wait_for(PipeState state, std::chrono::seconds timeout = 90s);

 private:
  Catalog& catalog_;
  std::string name_;
  std::unique_ptr<PipeRunner> runner_;
  std::atomic<bool> stop_{false};
  PipeState final_ = PipeState::Provisioning;
  std::thread thread_;
};

using Rows = std::vector<std::vector<std::string>>;

// Live rows of a table on both sides, every column rendered as text, ordered by `key`.
std::pair<Rows, Rows> both_sides(Sandbox& sb, const std::string& table, const std::vector<std::string>& cols,
                                 const std::string& key);

// Waits until `sides()` (source rows, destination rows) are equal, row by row and value
// by value; else names the first difference (`source_name`, `destination_name`: the sides).
::testing::AssertionResult sides_converge(const std::function<std::pair<Rows, Rows>()>& sides, const std::string& table,
                                          const std::string& source_name, std::chrono::seconds timeout,
                                          const std::string& destination_name = "clickhouse");

// Waits until both sides hold the same rows; returns the last comparison.
::testing::AssertionResult converges(Sandbox& sb, const std::string& table, const std::vector<std::string>& cols,
                                     const std::string& key = "id", std::chrono::seconds timeout = 60s);

// The PostgreSQL side of the kill -9 tests: table public.acc (id int key, balance bigint,
// note text, big text) with 3000 rows, every 50th with a TOAST-sized `big`.
void create_transfer_table(Sandbox& sb);
// A live workload on public.acc until stop(): transactions of a transfer between two rows
// (one also changing `note`), an insert (every 7th with a TOAST value), a delete of an
// inserted row and a primary key update.
class PgTransferWriter {
 public:
  explicit PgTransferWriter(Sandbox& sb);
  ~PgTransferWriter() { stop(); }
  void stop();

 private:
  std::atomic<bool> writing_{true};
  std::thread thread_;
};

// Tables a (id key, v, big: TOAST-sized every 10th) and c (composite key k1, k2) with rows,
// and a script of mixed changes for them: updates leaving TOAST values unchanged, key
// updates (also twice in one transaction), deletes, a key reused, several changes of one
// key in one transaction, TRUNCATE, and keys differing only in case or a trailing space.
extern const char* const kMixedChangesTables;
extern const char* const kMixedChanges;

}  // namespace ferry::test
