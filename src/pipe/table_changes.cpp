// Adding and removing tables of an existing pipe (runner side).
#include <algorithm>

#include <fmt/format.h>

#include "connectors/api/destination.h"
#include "connectors/api/source.h"
#include "core/error.h"
#include "core/log.h"
#include "pipe/resync.h"
#include "pipe/runner.h"

namespace ferry {

void PipeRunner::finish_table_removal() {
  std::vector<std::string> sources, removed;
  for (const auto& m : pipe_.tables) sources.push_back(m.source);
  for (const auto& t : catalog_.tables(pipe_.name))
    if (std::find(sources.begin(), sources.end(), t.source) == sources.end()) removed.push_back(t.source);
  // Removed tables leave the publication; their destination tables stay.
  if (mode_streams(pipe_.mode)) source_->prepare_stream(pipe_.name, sources);
  for (const auto& t : removed) {
    catalog_.clear_partitions(pipe_.name, t);
    catalog_.delete_table(pipe_.name, t);
  }
  auto back = pipe_state_from_string(catalog_.get_meta(pipe_.name, "modify_from").value_or(""));
  on_event(PipeEvent::ModifyDone, fmt::format("tables removed: {}", fmt::join(removed, ", ")),
           back.value_or(PipeState::Running));
}

bool PipeRunner::finish_interrupted_table_change() {
  if (tables_being_added()) {
    transition(PipeState::Snapshot, "tables added: loading them (after a restart)");
    return true;
  }
  std::vector<std::string> known, added, removed;
  for (const auto& t : catalog_.tables(pipe_.name)) known.push_back(t.source);
  for (const auto& m : pipe_.tables)
    if (std::find(known.begin(), known.end(), m.source) == known.end()) added.push_back(m.source);
  for (const auto& t : known)
    if (std::none_of(pipe_.tables.begin(), pipe_.tables.end(), [&](const auto& m) { return m.source == t; }))
      removed.push_back(t);
  if (added.empty() && removed.empty()) return false;
  spdlog::warn("pipe {}: its tables changed without the change being made (a crash?): making it now", pipe_.name);
  change_tables(added, removed);
  return true;
}

std::optional<ResyncPlan> PipeRunner::tables_being_added() {
  if (!mode_streams(pipe_.mode)) return std::nullopt;
  return resync_plan_from_json(catalog_.get_meta(pipe_.name, kAddingMeta).value_or(""));
}

void PipeRunner::finish_adding_tables(const ResyncPlan& plan) {
  std::vector<TableMapping> added;
  for (const auto& m : pipe_.tables)
    if (std::find(plan.tables.begin(), plan.tables.end(), m.source) != plan.tables.end()) added.push_back(m);
  auto until = catalog_.checkpoint(pipe_.name, "");
  if (!added.empty() && until)
    catch_up(added, source_->parse_position(plan.replay_from), source_->parse_position(*until));
  if (stopping()) return;  // replayed again on restart
  catalog_.put_meta(pipe_.name, kAddingMeta, "");
}

ActionOutcome PipeRunner::change_tables(const std::vector<std::string>& added, const std::vector<std::string>& removed) {
  std::lock_guard<std::recursive_mutex> lock(state_mu_);
  PipeState from = state();
  PipeAction action = added.empty() ? PipeAction::RemoveTables : PipeAction::AddTables;
  ActionOutcome out = apply_action(action, from, pipe_.mode);
  if (!std::holds_alternative<Accepted>(out)) return out;
  if (resync_in_progress()) {
    // Paused in the middle of a resync load: the resync's load would not include new tables.
    if (from == PipeState::Paused)
      return Refusal{fmt::format("pipe '{}' is paused in the middle of a resync; resume it and change its tables "
                                 "once the resync finished", pipe_.name)};
    end_resync();  // left by a resync action that crashed before it took effect
  }
  if (!source_) source_ = make_source(source_peer_);
  if (!destination_) destination_ = make_destination(destination_peer_);
  std::vector<std::string> sources;
  for (const auto& m : pipe_.tables) sources.push_back(m.source);

  if (!removed.empty()) {
    catalog_.put_meta(pipe_.name, "modify_from", to_string(from));
    transition(PipeState::Modifying, fmt::format("removing tables: {}", fmt::join(removed, ", ")));
    finish_table_removal();  // back to Running or Paused
  }
  if (!added.empty()) {
    std::vector<TableStatus> statuses;
    for (const auto& mapping : pipe_.tables) {
      if (std::find(added.begin(), added.end(), mapping.source) == added.end()) continue;
      TableSchema projected = project_table(source_->describe(mapping.source), mapping);
      source_->check_readable(projected);
      destination_->ensure_table(projected, destination_table(pipe_, mapping));
      TableStatus status;
      status.pipe = pipe_.name;
      status.source = mapping.source;
      status.destination = destination_table_name(mapping);
      status.state = "pending";
      statuses.push_back(status);
    }
    // Published before the load, so no change to an added table falls between the two.
    if (mode_streams(pipe_.mode)) {
      source_->prepare_stream(pipe_.name, sources);
      // The other tables keep streaming during the load; the added ones' changes from here
      // are replayed into them afterwards (snapshot(), finish_adding_tables()).
      if (auto cp = catalog_.checkpoint(pipe_.name, "")) {
        ResyncPlan plan;
        plan.tables = added;
        plan.replay_from = *cp;
        catalog_.put_meta(pipe_.name, kAddingMeta, resync_plan_to_json(plan));
      }
    }
    // Recorded last: a restart that finds a spec table without its status (a crash above)
    // makes the whole change again (finish_interrupted_table_change).
    for (const auto& status : statuses) catalog_.upsert_table(status);
    if (from == PipeState::Running) {
      transition(PipeState::Snapshot, fmt::format("tables added: {}", fmt::join(added, ", ")));
    } else {
      catalog_.put_meta(pipe_.name, "resume_to", to_string(PipeState::Snapshot));
      spdlog::info("pipe {}: tables added while Paused ({}); they are loaded on resume", pipe_.name,
                   fmt::join(added, ", "));
    }
  }
  return Accepted{state()};
}

}  // namespace ferry
