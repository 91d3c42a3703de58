// Adding and removing tables of an existing pipe (runner side).
#include <algorithm>

#include <fmt/format.h>

#include "connectors/destination.h"
#include "connectors/source.h"
#include "core/error.h"
#include "core/log.h"
#include "pipe/runner.h"

namespace ferry {

namespace {
std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}
}  // namespace

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
    transition(PipeState::Modifying, "removing tables: " + joined(removed));
    // Removed tables leave the publication; their destination tables stay.
    if (mode_streams(pipe_.mode)) source_->prepare_stream(pipe_.name, sources);
    for (const auto& t : removed) {
      catalog_.clear_partitions(pipe_.name, t);
      catalog_.delete_table(pipe_.name, t);
    }
    on_event(PipeEvent::ModifyDone, "tables removed: " + joined(removed));  // back to Running or Paused
  }
  if (!added.empty()) {
    for (const auto& mapping : pipe_.tables) {
      if (std::find(added.begin(), added.end(), mapping.source) == added.end()) continue;
      TableSchema projected = project_table(source_->describe(mapping.source), mapping);
      source_->check_readable(projected);
      destination_->ensure_table(projected, {destination_table_name(mapping), mapping.order_by});
      TableStatus status;
      status.pipe = pipe_.name;
      status.source = mapping.source;
      status.destination = destination_table_name(mapping);
      status.state = "pending";
      catalog_.upsert_table(status);
    }
    // Published before the load, so no change to an added table falls between the two.
    if (mode_streams(pipe_.mode)) source_->prepare_stream(pipe_.name, sources);
    if (from == PipeState::Running) {
      transition(PipeState::Snapshot, "tables added: " + joined(added));
    } else {
      catalog_.put_meta(pipe_.name, "resume_to", to_string(PipeState::Snapshot));
      spdlog::info("pipe {}: tables added while Paused ({}); they are loaded on resume", pipe_.name, joined(added));
    }
  }
  return Accepted{state()};
}

}  // namespace ferry
