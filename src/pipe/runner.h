// The runner: the only code that changes a pipe's state. It drives a pipe
// through its phases (setup, snapshot, ...) using a source, a destination and
// the catalog; connectors report results and errors, the runner decides.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "catalog/catalog.h"
#include "core/clock.h"
#include "pipe/spec.h"

namespace ferry {

class Source;
class Destination;

struct LoadProgress {
  std::string table;  // source table
  int64_t partitions_done = 0;
  int64_t partitions_total = 0;
  int64_t rows = 0;
};

struct RunnerOptions {
  // Set from outside (signal, API) to stop after the in-flight work is checkpointed.
  std::atomic<bool>* stop = nullptr;
  // Called from worker threads after each finished partition.
  std::function<void(const LoadProgress&)> on_progress;
  Clock* clock = &Clock::system();
  // Incremental pipes: run() returns after one finished run (state stays Running);
  // the schedule is not waited for. `ferry run --once`.
  bool once = false;
};

class PipeRunner {
 public:
  PipeRunner(Catalog& catalog, PipeSpec pipe, PeerSpec source, PeerSpec destination, RunnerOptions options = {});
  ~PipeRunner();

  // Registers the pipe in the catalog (Provisioning) unless it is there, then
  // works until the pipe is Completed, Paused or Failed, or `stop` is set.
  // Returns the state it left the pipe in.
  PipeState run();

  // Thread-safe, callable while run() works in another thread: moves the pipe
  // to Pausing (refused outside Running/Snapshot); run() then finishes the
  // in-flight work, checkpoints it, records Paused and returns.
  ActionOutcome request_pause();

  // For a pipe that is not running (Paused or Failed): records the move back
  // to the state its work continues in. Call run() afterwards.
  ActionOutcome resume();

  // For a pipe that is not running, in Running or Paused, whose spec (this
  // runner's) gained `added` and lost `removed` source tables: removed tables
  // leave the stream (state Modifying, then back); added ones get their
  // destination tables and then an initial load (state Snapshot now when
  // Running, on resume when Paused), after which streaming continues from the
  // checkpoint. Call run() afterwards when the pipe was Running.
  ActionOutcome change_tables(const std::vector<std::string>& added, const std::vector<std::string>& removed);

  // For a pipe that is not running (Paused or Failed; refused naming the state
  // otherwise): runs the pre-check (refused with the failing checks unless it
  // passes, warnings only with `confirm`), then forgets the pipe's progress
  // (stream start and checkpoints, partitions, table statuses, incremental
  // cursors), truncates the destination tables with `clear_destination`, and
  // records the move to Setup. Call run() afterwards: the pipe re-runs its mode
  // from the start (DESIGN.md section 6).
  ActionOutcome reset(bool clear_destination, bool confirm);

 private:
  PipeState state();
  void transition(PipeState to, const std::string& reason, const std::string& error = "");
  void on_event(PipeEvent event, const std::string& reason);
  void provision();
  void setup();
  void snapshot();
  void stream_changes();
  // Incremental mode (incremental_phase.cpp): waits for the next scheduled run (unless
  // `once`), then does one run; returns true when the run finished, false when stopped.
  bool incremental();
  bool incremental_run();
  // Streaming modes: the stream start (slot) and its checkpoint; returns the
  // consistent point for the initial load when one was just created.
  std::unique_ptr<class SnapshotPoint> start_stream_if_needed(bool with_snapshot);
  bool stopping() const { return (options_.stop && options_.stop->load()) || pause_requested_.load(); }

  Catalog& catalog_;
  PipeSpec pipe_;
  PeerSpec source_peer_;
  PeerSpec destination_peer_;
  RunnerOptions options_;
  std::unique_ptr<Source> source_;
  std::unique_ptr<Destination> destination_;
  // Serialises state changes between run() and request_pause().
  std::recursive_mutex state_mu_;
  std::atomic<bool> pause_requested_{false};
};

// The columns of `table` the pipe moves (exclude_columns removed); throws
// Permanent when the mapping names a column the table does not have.
struct TableSchema;
struct TableMapping;
TableSchema project_table(const TableSchema& table, const TableMapping& mapping);
std::string destination_table_name(const TableMapping& mapping);

}  // namespace ferry
