// The runner: the only code that changes a pipe's state. It drives a pipe
// through its phases (setup, snapshot, ...) using a source, a destination and
// the catalog; connectors report results and errors, the runner decides.
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "pipe/lifecycle.h"
#include "core/clock.h"
#include "core/test_hooks.h"
#include "pipe/metrics_sink.h"
#include "core/spec.h"

namespace ferry {

class Source;
class Destination;
class SnapshotPoint;
struct TableSchema;
struct TableMapping;
struct DestinationTable;

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
  // Receives the rows, bytes and batches written (from worker threads; see
  // pipe/metrics_sink.h). Not owned; must outlive the runner. Null: none().
  MetricsSink* metrics = &MetricsSink::none();
  // Crash and hold points for tests (core/test_hooks.h); null: none. Not owned;
  // must outlive the runner.
  const TestHooks* hooks = nullptr;
  // Incremental pipes: run() returns after one finished run (state stays Running);
  // the schedule is not waited for. `ferry run --once`.
  bool once = false;
};

// What the streaming phase writes and how far it confirms the source
// (resync loads stream beside the load, see resync_phase.cpp).
struct StreamLimits {
  std::function<bool()> until;           // return once true (checked between events)
  uint64_t confirm_at_most = UINT64_MAX;  // never acknowledge the source past this
  // Destination tables whose changes are not applied (tables being loaded: a
  // catch-up replays their changes after the load).
  std::set<std::string> skip;
  // Destination tables that a permanent apply error excludes from the rest of
  // this call (the old tables of a resync: their rebuilt copies catch up later).
  std::set<std::string> best_effort;
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

  // For a pipe that is not running, in Running, Paused, Completed or Failed:
  // rebuilds the destination tables of `table` (a source or destination table
  // name of the pipe; empty: every table) from the current source schema and
  // pipe settings (pipe/resync.h). Clears their load statistics and records the
  // move to Snapshot. Refused when a table is unknown, or when only some tables
  // are asked for while the pipe's change stream is lost (then the whole pipe must
  // be resynced). Call run() afterwards.
  ActionOutcome resync(const std::string& table);

 private:
  PipeState state();
  void transition(PipeState to, const std::string& reason, const std::string& error = "");
  // `resuming_to`: for ModifyDone, the state the pipe was in before Modifying.
  void on_event(PipeEvent event, const std::string& reason, PipeState resuming_to = PipeState::Running);
  void provision();
  void setup();
  void snapshot();
  void stream_changes(const StreamLimits& limits = {});
  // Resync (resync_phase.cpp): the load into the `_resync` tables (state Snapshot),
  // then catch-up, carrying soft-deleted rows and the swap (state Resync).
  void resync_load();
  void resync_swap();
  bool resync_in_progress();  // a resync plan is recorded
  void end_resync();          // forgets the plan
  // Tables added to a streaming pipe (table_changes.cpp): loaded while the other tables
  // keep streaming; then their changes since `replay_from` are replayed into them.
  std::optional<struct ResyncPlan> tables_being_added();
  // State Modifying: the tables the spec no longer has leave the stream and the catalog.
  void finish_table_removal();
  // In Running: a table-list change that a crash cut short (the spec and the tables'
  // statuses disagree, or an addition was not moved to Snapshot) is made; true when it
  // changed the state.
  bool finish_interrupted_table_change();
  void finish_adding_tables(const struct ResyncPlan& plan);
  // Replays the stream's changes from `from` until everything up to `until` was
  // seen, applying only those of `tables`, each into its mapping's `destination`
  // (cdc_phase.cpp). Neither checkpoints nor confirms anything: replays are idempotent.
  // Applies the changes from..until of `tables`. It may go on to the end of the transaction
  // that passes `until`; with stop_before_later, transactions committed after `until` are
  // left for the stream.
  void catch_up(const std::vector<TableMapping>& tables, uint64_t from, uint64_t until, bool stop_before_later = false);
  // For destinations that republish (a log): publishes the changes of `tables` from the
  // checkpoint up to `point` (exact) and moves the checkpoint there, so that the snapshot's
  // rows land between the changes up to its point and the later ones, and each key's
  // messages stay in position order. False when stopping meanwhile.
  bool publish_changes_until(const class SnapshotPoint& point, const std::vector<TableMapping>& tables);
  void prepare_stream_tables();  // prepare_stream with every table of the pipe

  struct LoadWork;  // one partition to copy (pipe/load_work.h)
  // Plans `table`'s partitions unless `parts` (its recorded plan) has some, and
  // queues the unfinished ones.
  // `version`: the row version of the rows loaded (LoadWork::version).
  void queue_partitions(std::deque<LoadWork>& queue, const TableSchema& schema, const DestinationTable& dest,
                        const std::string& table, std::vector<PartitionRecord> parts, uint64_t version);
  // The row version of rows loaded at `point`: its source position, except for
  // incremental pipes, whose rows are versioned by run (loaded rows stay below every run's).
  uint64_t load_version(const SnapshotPoint& point) const;
  // After a load: the tables whose new load recorded a version (snapshot()) lose the
  // live rows older than it at the destination (Destination::delete_stale_rows).
  void delete_stale_rows();
  // Whether loads record a stale-row sweep: rows carry real source positions and the
  // destination can delete by version (incremental runs version by run instead).
  bool sweeps_stale_rows() const;
  // Loads the queue with snapshot_parallelism workers reading at `point`. While they
  // work, `alongside` (when given) runs on this thread and must return once its
  // argument turns true (all workers finished) or stopping(). Rethrows the first
  // failure; leaves unfinished partitions recorded when stopped.
  void run_load(std::deque<LoadWork>& queue, const SnapshotPoint& point,
                const std::function<void(const std::atomic<bool>& load_finished)>& alongside = {});
  // Incremental mode (incremental_phase.cpp): waits for the next scheduled run (unless
  // `once`), then does one run; returns true when the run finished, false when stopped.
  bool incremental();
  bool incremental_run();
  // Streaming modes: the stream start (slot) and its checkpoint; returns the
  // consistent point for the initial load when one was just created.
  std::unique_ptr<class SnapshotPoint> start_stream_if_needed(bool with_snapshot);
  void crash_point(const char* name) const {
    if (options_.hooks) options_.hooks->crash_point(name);
  }
  void hold_point(const char* name) const {
    if (options_.hooks) options_.hooks->hold_point(name);
  }
  MetricsSink& metrics() const { return options_.metrics ? *options_.metrics : MetricsSink::none(); }
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
// Catalog meta key holding the version below which `table`'s live destination rows
// are stale once its load finished ("" or missing: nothing to delete).
std::string stale_rows_meta(const std::string& table);
// Where `mapping` lands: its destination name (or `name_override`), order key, column
// types and the pipe's on_unrepresentable policy.
DestinationTable destination_table(const PipeSpec& pipe, const TableMapping& mapping,
                                   const std::string& name_override = "");

}  // namespace ferry
