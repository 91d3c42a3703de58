#include "pipe/runner.h"
#include "pipe/unrepresentable.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <exception>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "connectors/api/destination.h"
#include "connectors/api/source.h"
#include "core/error.h"
#include "core/ident.h"
#include "core/log.h"
#include "core/schema.h"
#include "pipe/capability_check.h"
#include "pipe/incremental.h"
#include "pipe/keyless_staging.h"
#include "pipe/load_work.h"
#include "pipe/precheck.h"
#include "pipe/resync.h"
#include "pipe/spec_json.h"

namespace ferry {

TableSchema project_table(const TableSchema& table, const TableMapping& mapping) {
  for (const auto& name : mapping.exclude_columns) {
    if (!table.find(name))
      throw Error(ErrorKind::Permanent, fmt::format("table {}: exclude_columns names column \"{}\" that the source "
                                                    "table does not have", table.display_name(), name));
  }
  for (const auto& name : mapping.order_by) {
    if (!table.find(name))
      throw Error(ErrorKind::Permanent, fmt::format("table {}: order_by names column \"{}\" that the source table "
                                                    "does not have", table.display_name(), name));
  }
  TableSchema out = table;
  out.columns.clear();
  for (const auto& col : table.columns) {
    bool excluded = std::find(mapping.exclude_columns.begin(), mapping.exclude_columns.end(), col.name) !=
                    mapping.exclude_columns.end();
    if (!excluded) out.columns.push_back(col);
    else if (col.key_position > 0)
      throw Error(ErrorKind::Permanent, fmt::format("table {}: column \"{}\" is part of the primary key and cannot "
                                                    "be excluded", table.display_name(), col.name));
  }
  for (const auto& col : out.columns) {
    if (col.type == LogicalType::Unsupported)
      throw Error(ErrorKind::Permanent, fmt::format("table {}: column \"{}\" has type {} that ferry cannot map",
                                                    table.display_name(), col.name, col.source_type));
  }
  return out;
}

std::string destination_table_name(const TableMapping& mapping) {
  return mapping.destination.empty() ? split_qualified(mapping.source).name : mapping.destination;
}

DestinationTable destination_table(const PipeSpec& pipe, const TableMapping& mapping,
                                   const std::string& name_override) {
  DestinationTable t;
  t.name = name_override.empty() ? destination_table_name(mapping) : name_override;
  t.order_by = mapping.order_by;
  t.column_types = mapping.column_types;
  t.on_unrepresentable = pipe.settings.on_unrepresentable;
  t.soft_delete = pipe.settings.soft_delete;
  return t;
}

PipeRunner::PipeRunner(Catalog& catalog, PipeSpec pipe, PeerSpec source, PeerSpec destination, RunnerOptions options)
    : catalog_(catalog),
      pipe_(std::move(pipe)),
      source_peer_(std::move(source)),
      destination_peer_(std::move(destination)),
      options_(std::move(options)) {}

PipeRunner::~PipeRunner() = default;

PipeState PipeRunner::state() {
  auto rec = catalog_.get_pipe(pipe_.name);
  if (!rec) throw Error(ErrorKind::Permanent, "pipe '" + pipe_.name + "' is not in the catalog");
  return rec->state;
}

void PipeRunner::transition(PipeState to, const std::string& reason, const std::string& error) {
  std::lock_guard<std::recursive_mutex> lock(state_mu_);
  PipeState from = state();
  // Where resume continues: the working state a pipe paused or failed in.
  if ((to == PipeState::Failed || to == PipeState::Pausing) && from != PipeState::Pausing)
    catalog_.put_meta(pipe_.name, "resume_to", to_string(from));
  catalog_.set_state(pipe_.name, to, reason, error);
  spdlog::info("pipe {}: {} -> {} ({})", pipe_.name, to_string(from), to_string(to), reason);
}

void PipeRunner::on_event(PipeEvent event, const std::string& reason, PipeState resuming_to) {
  std::lock_guard<std::recursive_mutex> lock(state_mu_);
  PipeState from = state();
  if (from == PipeState::Pausing && event != PipeEvent::Paused) {
    // A pause arrived as the phase finished: resume continues from the recorded progress.
    spdlog::info("pipe {}: {} while pausing; resume continues from the checkpoint", pipe_.name, to_string(event));
    return;
  }
  auto next = apply_event(event, from, pipe_.mode, resuming_to);
  if (!next)
    throw Error(ErrorKind::Permanent,
                fmt::format("internal error: event {} is not valid in state {}", to_string(event), to_string(from)));
  transition(*next, reason);
}

PipeState PipeRunner::run() {
  if (!catalog_.get_pipe(pipe_.name)) catalog_.create_pipe(pipe_.name, pipe_spec_to_json(pipe_), "pipe created");
  int retries = catalog_.get_pipe(pipe_.name)->retry_count;
  std::mt19937 rng(std::random_device{}());
  for (;;) {
    PipeState s = state();
    if (s == PipeState::Completed || s == PipeState::Paused || s == PipeState::Failed) return s;
    if (s == PipeState::Pausing) {  // the phase returned after finishing and checkpointing its in-flight work
      on_event(PipeEvent::Paused, "in-flight work finished and checkpointed");
      continue;
    }
    if (stopping()) return s;
    try {
      switch (s) {
        case PipeState::Provisioning: provision(); break;
        case PipeState::Setup: setup(); break;
        case PipeState::Snapshot:
          if (resync_in_progress()) resync_load();
          else snapshot();
          break;
        case PipeState::Resync: resync_swap(); break;
        case PipeState::Modifying:
          if (!source_) source_ = make_source(source_peer_);
          finish_table_removal();
          break;
        case PipeState::Running:
          if (finish_interrupted_table_change()) break;
          if (pipe_.mode == PipeMode::Incremental) {
            // One scheduled run per call; a finished run clears the retry count.
            if (incremental()) {
              if (retries > 0) catalog_.record_retry(pipe_.name, retries = 0, "");
              if (options_.once && state() == PipeState::Running) return PipeState::Running;
            }
            break;
          }
          stream_changes();
          break;
        default:
          throw Error(ErrorKind::Permanent, fmt::format("state {} of mode {} is not built yet in this version of ferry",
                                                        to_string(s), to_string(pipe_.mode)));
      }
      if (retries > 0 && state() != s) retries = 0;
    } catch (const Error& e) {
      if (e.transient() && retries < pipe_.settings.max_retries && !stopping()) {
        ++retries;
        catalog_.record_retry(pipe_.name, retries, e.what());
        source_.reset();  // connections may be broken: reconnect on the next attempt
        destination_.reset();
        auto cap = pipe_.settings.retry_backoff_max.count();
        long long base = std::min<long long>(cap, 1000LL << std::min(retries, 16));
        long long wait = base / 2 + std::uniform_int_distribution<long long>(0, base / 2)(rng);
        spdlog::warn("pipe {}: transient error (retry {}/{} in {} ms): {}", pipe_.name, retries,
                     pipe_.settings.max_retries, wait, e.what());
        for (long long waited = 0; waited < wait && !stopping(); waited += 100)
          options_.clock->sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      std::string reason = e.transient() ? fmt::format("retries exhausted after {} attempts", retries)
                                         : fmt::format("{} error", to_string(e.kind()));
      transition(PipeState::Failed, reason, e.what());
      spdlog::error("pipe {} failed: {}", pipe_.name, e.what());
      return PipeState::Failed;
    } catch (const std::exception& e) {
      transition(PipeState::Failed, "internal error", e.what());
      spdlog::error("pipe {} failed: {}", pipe_.name, e.what());
      return PipeState::Failed;
    }
  }
}

ActionOutcome PipeRunner::request_pause() {
  std::lock_guard<std::recursive_mutex> lock(state_mu_);
  PipeState s = state();
  ActionOutcome out = apply_action(PipeAction::Pause, s, pipe_.mode);
  if (std::holds_alternative<Accepted>(out)) {
    transition(PipeState::Pausing, "pause requested");
    pause_requested_ = true;
  }
  return out;
}

ActionOutcome PipeRunner::resume() {
  std::lock_guard<std::recursive_mutex> lock(state_mu_);
  auto rec = catalog_.get_pipe(pipe_.name);
  if (!rec) throw Error(ErrorKind::Config, "pipe '" + pipe_.name + "' does not exist");
  ActionOutcome out = apply_action(PipeAction::Resume, rec->state, pipe_.mode);
  if (!std::holds_alternative<Accepted>(out)) return out;
  auto recorded = catalog_.get_meta(pipe_.name, "resume_to");
  std::optional<PipeState> target = recorded ? pipe_state_from_string(*recorded) : std::nullopt;
  if (!target) target = std::get<Accepted>(out).next;
  pause_requested_ = false;
  transition(*target, rec->state == PipeState::Failed ? "resumed after failure: retrying from the checkpoint"
                                                      : "resumed");
  return Accepted{target};
}

ActionOutcome PipeRunner::reset(bool clear_destination, bool confirm) {
  std::lock_guard<std::recursive_mutex> lock(state_mu_);
  auto rec = catalog_.get_pipe(pipe_.name);
  if (!rec) throw Error(ErrorKind::Config, "pipe '" + pipe_.name + "' does not exist");
  ActionOutcome out = apply_action(PipeAction::Reset, rec->state, pipe_.mode);
  if (!std::holds_alternative<Accepted>(out)) return out;

  PrecheckReport report = run_precheck(pipe_, source_peer_, destination_peer_, false);
  if (!report.ok(confirm)) {
    std::string problems;
    for (const auto& c : report.checks) {
      if (c.status == CheckResult::Pass || (c.status == CheckResult::Warn && confirm)) continue;
      problems += fmt::format("{}{} {}: {}", problems.empty() ? "" : "; ", to_string(c.status), c.name, c.reason);
    }
    bool only_warnings = report.failed() == 0;
    return Refusal{fmt::format("reset of pipe '{}' refused: pre-check success rate {:.0f}% ({}){}", pipe_.name,
                               report.success_rate(), problems,
                               only_warnings ? "; confirm to accept the warnings" : "")};
  }

  if (!destination_) destination_ = make_destination(destination_peer_);
  if (clear_destination && !destination_->capabilities().table_admin)
    return Refusal{fmt::format("reset of pipe '{}' refused: a {} destination cannot clear its tables; reset without "
                               "clearing the destination, which loads every table again",
                               pipe_.name, to_string(destination_peer_.type))};
  // The configuration stays; everything the pipe learned while working goes.
  if (!source_) source_ = make_source(source_peer_);
  if (mode_streams(pipe_.mode)) source_->drop_stream(pipe_.name);  // slot + publication; Setup recreates them
  catalog_.clear_checkpoints(pipe_.name);  // the stream position and the incremental cursors
  clear_unrepresentable(catalog_, pipe_.name);
  for (auto t : catalog_.tables(pipe_.name)) {
    catalog_.clear_partitions(pipe_.name, t.source);
    t.state = "pending";
    t.partitions_total = t.partitions_done = t.rows_loaded = 0;
    t.load_started_at_ms = t.load_finished_at_ms = t.partition_ms_total = 0;
    catalog_.upsert_table(t);
  }
  if (pipe_.mode == PipeMode::Incremental) {
    // The run number stays (rows copied again get a higher version); the schedule starts now.
    catalog_.put_meta(pipe_.name, kIncrementalStatusMeta, "{}");
  }
  catalog_.put_meta(pipe_.name, kAddingMeta, "");  // every table is loaded again anyway
  if (resync_in_progress()) {  // a reset replaces an unfinished resync
    for (const auto& m : pipe_.tables) remove_resync_leftovers(*destination_, destination_table_name(m));
    end_resync();
  }
  if (clear_destination) {
    for (const auto& m : pipe_.tables) {
      std::string name = destination_table_name(m);
      remove_staging_leftovers(*destination_, name);
      destination_->truncate_table(name);
    }
  }
  catalog_.record_retry(pipe_.name, 0, "");
  pause_requested_ = false;
  transition(PipeState::Setup, clear_destination ? "reset: clearing destination" : "reset");
  return Accepted{PipeState::Setup};
}

void PipeRunner::provision() {
  source_ = make_source(source_peer_);
  destination_ = make_destination(destination_peer_);
  std::string sv = source_->server_version();
  std::string dv = destination_->server_version();
  on_event(PipeEvent::Provisioned, fmt::format("connected: source {}, destination {}", sv, dv));
}

void PipeRunner::setup() {
  if (!source_) source_ = make_source(source_peer_);
  if (!destination_) destination_ = make_destination(destination_peer_);
  std::string why = source_mode_problem(pipe_.mode, source_->capabilities(), source_peer_.type);
  if (why.empty()) why = destination_mode_problem(pipe_.mode, destination_->capabilities(), destination_peer_.type);
  if (!why.empty()) throw Error(ErrorKind::Config, fmt::format("pipe {}: mode {} {}", pipe_.name, to_string(pipe_.mode), why));
  for (const auto& mapping : pipe_.tables) {
    TableSchema projected = project_table(source_->describe(mapping.source), mapping);
    source_->check_readable(projected);
    if (pipe_.mode == PipeMode::Incremental) check_incremental_table(projected, mapping);  // incremental_phase.cpp
    DestinationTable dest = destination_table(pipe_, mapping);
    // No load owns a staging table before the snapshot: an earlier load's are leftovers.
    if (mode_snapshots(pipe_.mode)) remove_staging_leftovers(*destination_, dest.name);
    destination_->ensure_table(projected, dest);
    bool known = false;
    for (const auto& t : catalog_.tables(pipe_.name)) known |= t.source == mapping.source;
    if (!known) {
      TableStatus status;
      status.pipe = pipe_.name;
      status.source = mapping.source;
      status.destination = dest.name;
      status.state = "pending";
      catalog_.upsert_table(status);
    }
  }
  if (mode_streams(pipe_.mode)) {
    std::vector<std::string> sources;
    for (const auto& m : pipe_.tables) sources.push_back(m.source);
    source_->prepare_stream(pipe_.name, sources);
    // cdc: changes from now on; snapshot+cdc creates its slot with the load's snapshot.
    if (pipe_.mode == PipeMode::Cdc) start_stream_if_needed(false);
  }
  on_event(PipeEvent::SetupDone, fmt::format("{} destination tables ready", pipe_.tables.size()));
}

void PipeRunner::queue_partitions(std::deque<LoadWork>& queue, const TableSchema& schema, const DestinationTable& dest,
                                  const std::string& table, std::vector<PartitionRecord> parts, uint64_t version) {
  if (parts.empty()) {
    std::vector<std::string> ranges = source_->plan_partitions(schema, pipe_.settings.snapshot_rows_per_partition);
    for (size_t i = 0; i < ranges.size(); ++i) {
      PartitionRecord p;
      p.pipe = pipe_.name;
      p.table = table;
      p.index = static_cast<int64_t>(i);
      p.range = ranges[i];
      parts.push_back(p);
    }
    catalog_.save_partition_plan(pipe_.name, table, parts, to_epoch_ms(options_.clock->now()));
  }
  for (const auto& p : parts)
    if (!p.done) queue.push_back({&schema, dest, table, p, version});
}

void PipeRunner::snapshot() {
  if (!source_) source_ = make_source(source_peer_);
  std::deque<TableSchema> schemas;  // stable addresses for the queued work
  std::deque<LoadWork> queue;
  // snapshot+cdc: the first load reads at the slot's exported snapshot, so the
  // stream starts exactly where the load's view ends. A load resumed after a
  // restart reads later data on a fresh snapshot; replaying the stream from
  // the slot's start then converges, as every change carries a newer version.
  std::unique_ptr<SnapshotPoint> point;
  if (mode_streams(pipe_.mode)) point = start_stream_if_needed(true);
  if (!point) point = source_->open_snapshot(mode_streams(pipe_.mode), pipe_.settings.snapshot_parallelism);
  if (!destination_) destination_ = make_destination(destination_peer_);
  std::vector<std::pair<std::string, std::string>> staged;  // keyless tables: (staging, target)
  for (const auto& mapping : pipe_.tables) {
    schemas.push_back(project_table(source_->describe(mapping.source), mapping));
    DestinationTable dest = destination_table(pipe_, mapping);
    std::vector<PartitionRecord> parts = catalog_.partitions(pipe_.name, mapping.source);
    if (schemas.back().key_columns().empty()) {  // keyless: through ferry_tmp_<table> (keyless_staging.h)
      std::string target = dest.name;
      if (prepare_keyless_load(*destination_, schemas.back(), dest, parts)) {
        spdlog::info("pipe {}: keyless table {} reloads from the start", pipe_.name, mapping.source);
        parts.clear();
      }
      staged.emplace_back(dest.name, target);
    } else if (parts.empty() && sweeps_stale_rows()) {
      // A new load: every row it writes gets a version >= this point's, so afterwards
      // the table's live rows below it are keys the source no longer has. Recorded
      // before the plan, so a restart that finds the plan also finds the version.
      catalog_.put_meta(pipe_.name, stale_rows_meta(mapping.source), std::to_string(load_version(*point)));
    }
    queue_partitions(queue, schemas.back(), dest, mapping.source, std::move(parts), load_version(*point));
  }
  spdlog::info("pipe {}: snapshot of {} tables, {} partitions to load", pipe_.name, pipe_.tables.size(), queue.size());
  // Tables added to a streaming pipe load while the others keep streaming.
  std::optional<ResyncPlan> adding = tables_being_added();
  // A destination that republishes gets the added tables' rows between the other tables'
  // changes up to the snapshot's point and the later ones (publish_changes_until).
  const bool in_place = adding && destination_->capabilities().republishes;
  if (in_place) {
    std::vector<TableMapping> others;
    for (const auto& m : pipe_.tables)
      if (std::find(adding->tables.begin(), adding->tables.end(), m.source) == adding->tables.end())
        others.push_back(m);
    if (!publish_changes_until(*point, others)) return;
  }
  std::function<void(const std::atomic<bool>&)> stream_beside;
  if (adding && !in_place) {
    stream_beside = [&](const std::atomic<bool>& load_finished) {
      StreamLimits limits;
      limits.until = [&] { return load_finished.load(); };
      limits.confirm_at_most = source_->parse_position(adding->replay_from);
      for (const auto& m : pipe_.tables)
        if (std::find(adding->tables.begin(), adding->tables.end(), m.source) != adding->tables.end())
          limits.skip.insert(destination_table_name(m));
      stream_changes(limits);
    };
  }
  run_load(queue, *point, stream_beside);
  // Unfinished partitions stay recorded; a restart loads only those (keyless tables: all of them).
  if (stopping()) return;
  delete_stale_rows();
  for (const auto& [staging, target] : staged)
    if (destination_->table_exists(staging)) destination_->swap_table(staging, target);
  if (adding && in_place) {
    catalog_.put_meta(pipe_.name, kAddingMeta, "");  // nothing to replay: the stream goes on from the point
  } else if (adding) {
    finish_adding_tables(*adding);
    if (stopping()) return;
  }

  int64_t rows = 0;
  for (const auto& t : catalog_.tables(pipe_.name)) rows += t.rows_loaded;
  on_event(PipeEvent::SnapshotDone, fmt::format("initial load finished: {} rows", rows));
}

bool PipeRunner::sweeps_stale_rows() const {
  return pipe_.mode != PipeMode::Incremental && source_->capabilities().positions &&
         destination_->capabilities().stale_rows;
}

uint64_t PipeRunner::load_version(const SnapshotPoint& point) const {
  return pipe_.mode == PipeMode::Incremental ? 0 : point.position();
}

std::string stale_rows_meta(const std::string& table) { return "stale_below:" + table; }

void PipeRunner::delete_stale_rows() {
  for (const auto& mapping : pipe_.tables) {
    const std::string key = stale_rows_meta(mapping.source);
    std::string version = catalog_.get_meta(pipe_.name, key).value_or("");
    if (version.empty()) continue;
    int64_t n = destination_->delete_stale_rows(destination_table(pipe_, mapping), std::stoull(version));
    crash_point("stale-rows-deleted");
    if (n > 0)
      spdlog::info("pipe {}: table {}: {} row(s) the source no longer has were deleted at the destination", pipe_.name,
                   mapping.source, n);
    catalog_.put_meta(pipe_.name, key, "");
  }
}

void PipeRunner::run_load(std::deque<LoadWork>& queue, const SnapshotPoint& point,
                          const std::function<void(const std::atomic<bool>&)>& alongside) {
  std::mutex mu;
  std::exception_ptr failure;
  std::atomic<bool> abort{false};
  int n = std::max(1, std::min<int>(pipe_.settings.snapshot_parallelism, static_cast<int>(queue.size())));
  std::atomic<int> active{n};
  std::atomic<bool> finished{false};
  auto worker = [&] {
    std::unique_ptr<Destination> dest;
    for (;;) {
      LoadWork w;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (queue.empty() || abort || stopping()) break;
        w = std::move(queue.front());
        queue.pop_front();
      }
      try {
        if (!dest) dest = make_destination(destination_peer_);
        auto t0 = std::chrono::steady_clock::now();
        auto stream = source_->read_partition(*w.schema, w.part.range, point);
        CountingCopyStream counted(*stream);
        int64_t rows = dest->load_snapshot(*w.schema, w.dest, counted, w.version);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
        // Recorded only after the destination acknowledged the partition.
        catalog_.finish_partition(pipe_.name, w.table, w.part.index, rows, ms);
        record_unrepresentable(catalog_, pipe_, dest->take_unrepresentable());
        crash_point("load-partition-done");
        hold_point("load-partition-done");
        metrics().add_rows(pipe_.name, w.table, MetricPhase::Snapshot, rows, counted.bytes());
        if (options_.on_progress) {
          for (const auto& t : catalog_.tables(pipe_.name)) {
            if (t.source != w.table) continue;
            options_.on_progress({t.source, t.partitions_done, t.partitions_total, t.rows_loaded});
          }
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failure) failure = std::current_exception();
        abort = true;
        break;
      }
    }
    if (--active == 0) finished = true;
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back(worker);
  if (alongside) {
    try {
      alongside(finished);
    } catch (...) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!failure) failure = std::current_exception();
        abort = true;
      }
    }
  }
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace ferry
