// Resync on the runner side (pipe/resync.h has the steps and the crash story).
#include <algorithm>
#include <chrono>
#include <deque>

#include <fmt/format.h>

#include "connectors/api/destination.h"
#include "connectors/api/source.h"
#include "core/error.h"
#include "core/log.h"
#include "pipe/change_batcher.h"
#include "pipe/incremental.h"
#include "pipe/load_work.h"
#include "pipe/resync.h"
#include "pipe/runner.h"

namespace ferry {

namespace {

constexpr const char* kResyncMeta = "resync";

}  // namespace

bool PipeRunner::resync_in_progress() { return !catalog_.get_meta(pipe_.name, kResyncMeta).value_or("").empty(); }

void PipeRunner::end_resync() { catalog_.put_meta(pipe_.name, kResyncMeta, ""); }

ActionOutcome PipeRunner::resync(const std::string& table) {
  std::lock_guard<std::recursive_mutex> lock(state_mu_);
  auto rec = catalog_.get_pipe(pipe_.name);
  if (!rec) throw Error(ErrorKind::Config, "pipe '" + pipe_.name + "' does not exist");
  ActionOutcome out = apply_action(PipeAction::Resync, rec->state, pipe_.mode);
  if (!std::holds_alternative<Accepted>(out)) return out;
  ResyncPlan plan;
  try {
    plan.tables = resync_tables(pipe_, table);
  } catch (const Error& e) {
    return Refusal{e.what()};
  }
  bool adding = tables_being_added().has_value();
  if (adding && plan.tables.size() != pipe_.tables.size())
    return Refusal{fmt::format("pipe '{}' is {} while tables are being added to it; resume it and resync the table "
                               "once they are loaded, or resync the whole pipe", pipe_.name, to_string(rec->state))};
  if (!source_) source_ = make_source(source_peer_);
  if (!destination_) destination_ = make_destination(destination_peer_);
  const DestinationCapabilities caps = destination_->capabilities();
  if (!caps.table_admin && !caps.republishes)
    return Refusal{fmt::format("pipe '{}': a {} destination cannot rename or swap tables, which a resync needs; reset "
                               "the pipe instead, which loads every table again", pipe_.name, to_string(destination_peer_.type))};
  plan.in_place = !caps.table_admin;
  // The rebuilt tables take the current settings: ones the destination cannot honour
  // are refused now, while the pipe keeps its state.
  for (const auto& m : pipe_.tables) {
    if (std::find(plan.tables.begin(), plan.tables.end(), m.source) == plan.tables.end()) continue;
    try {
      destination_->check_table(project_table(source_->describe(m.source), m), destination_table(pipe_, m));
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Config) throw;
      return Refusal{fmt::format("resync of pipe '{}' refused: {}", pipe_.name, e.what())};
    }
  }

  if (mode_streams(pipe_.mode)) {
    auto cp = catalog_.checkpoint(pipe_.name, "");
    if (!cp || !source_->can_resume_stream(pipe_.name, source_->parse_position(*cp))) {
      // The changes since the checkpoint are gone: every table must be rebuilt from a new stream start.
      if (plan.tables.size() != pipe_.tables.size())
        return Refusal{fmt::format("resync of table '{}' refused: the change stream of pipe '{}' (replication slot "
                                   "ferry_{}, or the binlog at its checkpoint) is gone, so every table must be rebuilt; resync "
                                   "the whole pipe (without --table)", table, pipe_.name, pipe_.name)};
      plan.new_stream = true;
      catalog_.clear_checkpoints(pipe_.name);
    } else {
      plan.replay_from = *cp;
    }
  }
  // A resync that did not finish leaves its tables as they are; its `_resync` tables go.
  std::vector<std::string> targets;
  if (auto earlier = resync_plan_from_json(catalog_.get_meta(pipe_.name, kResyncMeta).value_or("")))
    for (const auto& t : earlier->tables) targets.push_back(t);
  for (const auto& t : plan.tables) targets.push_back(t);
  if (!plan.in_place)
    for (const auto& m : pipe_.tables)
      if (std::find(targets.begin(), targets.end(), m.source) != targets.end())
        remove_resync_leftovers(*destination_, destination_table_name(m));

  for (auto t : catalog_.tables(pipe_.name)) {
    if (std::find(plan.tables.begin(), plan.tables.end(), t.source) == plan.tables.end()) continue;
    catalog_.clear_partitions(pipe_.name, t.source);
    t.state = "pending";
    t.partitions_total = t.partitions_done = t.rows_loaded = 0;
    t.load_started_at_ms = t.load_finished_at_ms = t.partition_ms_total = 0;
    catalog_.upsert_table(t);
  }
  catalog_.put_meta(pipe_.name, kResyncMeta, resync_plan_to_json(plan));
  if (adding) catalog_.put_meta(pipe_.name, kAddingMeta, "");  // the whole-pipe resync loads them too
  catalog_.record_retry(pipe_.name, 0, "");
  pause_requested_ = false;
  transition(PipeState::Snapshot,
             fmt::format("resync of {}{}", plan.tables.size() == pipe_.tables.size() ? "every table: " : "",
                         fmt::join(plan.tables, ", ")) +
                 (plan.new_stream ? "; the change stream starts again" : ""));
  return Accepted{PipeState::Snapshot};
}

void PipeRunner::resync_load() {
  auto plan = resync_plan_from_json(catalog_.get_meta(pipe_.name, kResyncMeta).value_or(""));
  if (!plan) throw Error(ErrorKind::Permanent, "internal error: resync load without a resync plan");
  if (!source_) source_ = make_source(source_peer_);
  if (!destination_) destination_ = make_destination(destination_peer_);
  auto save = [&] { catalog_.put_meta(pipe_.name, kResyncMeta, resync_plan_to_json(*plan)); };

  std::unique_ptr<SnapshotPoint> point;
  if (plan->new_stream) {
    std::vector<std::string> sources;
    for (const auto& m : pipe_.tables) sources.push_back(m.source);
    source_->prepare_stream(pipe_.name, sources);
    point = start_stream_if_needed(true);  // nullptr when a restart finds the new stream already there
    if (plan->replay_from.empty()) {
      plan->replay_from = *catalog_.checkpoint(pipe_.name, "");
      save();
    }
  }
  if (!point) point = source_->open_snapshot(mode_streams(pipe_.mode), pipe_.settings.snapshot_parallelism);
  // In place, the stream waits while the load runs and goes on from the snapshot's point.
  if (plan->in_place && mode_streams(pipe_.mode) && !plan->new_stream &&
      !publish_changes_until(*point, pipe_.tables))
    return;

  std::deque<TableSchema> schemas;
  std::deque<LoadWork> queue;
  std::set<std::string> old_tables;
  for (const auto& m : pipe_.tables) {
    if (std::find(plan->tables.begin(), plan->tables.end(), m.source) == plan->tables.end()) continue;
    schemas.push_back(project_table(source_->describe(m.source), m));
    source_->check_readable(schemas.back());
    // Incremental pipes: the stored cursors stay (the next run copies what changed since the last one).
    if (pipe_.mode == PipeMode::Incremental) check_incremental_table(schemas.back(), m);
    old_tables.insert(destination_table_name(m));
    DestinationTable dest = plan->in_place ? destination_table(pipe_, m)
                                           : destination_table(pipe_, m, resync_table_name(destination_table_name(m)));
    std::vector<PartitionRecord> parts = catalog_.partitions(pipe_.name, m.source);
    bool any_done = std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.done; });
    bool all_done = !parts.empty() && std::all_of(parts.begin(), parts.end(), [](const auto& p) { return p.done; });
    // Keyless tables cannot drop a partition's rows loaded twice: an interrupted one starts over.
    bool keyless_partial = schemas.back().key_columns().empty() && any_done && !all_done;
    if (plan->in_place) {
      if (!any_done || keyless_partial) parts.clear();  // the targets stay: the load appends to them
    } else if (!any_done || keyless_partial || !destination_->table_exists(dest.name)) {
      destination_->drop_table(dest.name);  // nothing of it is recorded: built again from the current schema
      parts.clear();
    }
    destination_->ensure_table(schemas.back(), dest);
    queue_partitions(queue, schemas.back(), dest, m.source, std::move(parts), load_version(*point));
  }
  spdlog::info("pipe {}: resync load of {} tables, {} partitions to load", pipe_.name, schemas.size(), queue.size());

  std::function<void(const std::atomic<bool>&)> stream_beside;
  if (mode_streams(pipe_.mode) && !plan->new_stream && !plan->in_place) {
    // The old tables stay fresh during the load; the source keeps the changes from
    // replay_from for the catch-up of the rebuilt ones.
    stream_beside = [&](const std::atomic<bool>& load_finished) {
      StreamLimits limits;
      limits.until = [&] { return load_finished.load(); };
      limits.confirm_at_most = source_->parse_position(plan->replay_from);
      limits.best_effort = old_tables;
      stream_changes(limits);
    };
  }
  run_load(queue, *point, stream_beside);
  if (stopping()) return;
  if (mode_streams(pipe_.mode) && !plan->in_place) {
    plan->stream_until = *catalog_.checkpoint(pipe_.name, "");
    save();
  }
  crash_point("resync-load-done");
  int64_t rows = 0;
  for (const auto& t : catalog_.tables(pipe_.name))
    if (std::find(plan->tables.begin(), plan->tables.end(), t.source) != plan->tables.end()) rows += t.rows_loaded;
  on_event(PipeEvent::ResyncLoadDone, fmt::format("resync load finished: {} rows; {}", rows,
                                                  plan->in_place ? "published into the same targets" : "swapping next"));
}

void PipeRunner::resync_swap() {
  auto plan = resync_plan_from_json(catalog_.get_meta(pipe_.name, kResyncMeta).value_or(""));
  if (!plan) {  // a restart after the plan was closed
    on_event(PipeEvent::SwapDone, "resync finished");
    return;
  }
  if (plan->in_place) {  // the load went into the targets: nothing to swap
    end_resync();
    on_event(PipeEvent::SwapDone, fmt::format("resync: the snapshot of {} was published again into the same targets",
                                              fmt::join(plan->tables, ", ")));
    return;
  }
  if (!source_) source_ = make_source(source_peer_);
  if (!destination_) destination_ = make_destination(destination_peer_);
  std::vector<TableMapping> pending;
  std::vector<std::string> targets;
  for (const auto& m : pipe_.tables) {
    if (std::find(plan->tables.begin(), plan->tables.end(), m.source) == plan->tables.end()) continue;
    if (!resync_swap_pending(*destination_, destination_table_name(m), *plan)) continue;
    pending.push_back(m);
    targets.push_back(destination_table_name(m));
  }
  if (!pending.empty()) {
    if (!plan->replay_from.empty() && !plan->stream_until.empty()) {
      std::vector<TableMapping> into_rebuilt = pending;
      for (auto& m : into_rebuilt) m.destination = resync_table_name(destination_table_name(m));
      catch_up(into_rebuilt, source_->parse_position(plan->replay_from), source_->parse_position(plan->stream_until));
      if (stopping()) return;  // the catch-up is replayed again on restart
      crash_point("resync-caught-up");
    }
    for (const auto& m : pending) {
      TableSchema schema = project_table(source_->describe(m.source), m);
      std::string target = destination_table_name(m);
      int64_t carried = destination_->carry_deleted_rows(schema, target, resync_table_name(target));
      if (carried > 0) spdlog::info("pipe {}: {} soft-deleted rows of {} carried over", pipe_.name, carried, target);
    }
    crash_point("resync-carried");
    swap_in_resync_tables(*destination_, targets, *plan,
                          [&](const ResyncPlan& p) { catalog_.put_meta(pipe_.name, kResyncMeta, resync_plan_to_json(p)); },
                          options_.hooks);
  }
  std::vector<std::string> rebuilt;
  for (const auto& m : pipe_.tables) {
    if (std::find(plan->tables.begin(), plan->tables.end(), m.source) == plan->tables.end()) continue;
    remove_resync_leftovers(*destination_, destination_table_name(m));
    rebuilt.push_back(destination_table_name(m));
  }
  destination_.reset();  // what it knew about the old tables' layouts is stale
  crash_point("resync-before-close");
  end_resync();
  on_event(PipeEvent::SwapDone,
           fmt::format("resync: rebuilt tables swapped in ({}); old tables dropped", fmt::join(rebuilt, ", ")));
}

}  // namespace ferry
