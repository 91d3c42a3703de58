#include "pipe/lifecycle.h"

#include <fmt/format.h>

namespace ferry {

const char* to_string(PipeAction a) {
  switch (a) {
    case PipeAction::Pause: return "pause";
    case PipeAction::Resume: return "resume";
    case PipeAction::Resync: return "resync";
    case PipeAction::Reset: return "reset";
    case PipeAction::AddTables: return "add-tables";
    case PipeAction::RemoveTables: return "remove-tables";
    case PipeAction::Delete: return "delete";
  }
  return "?";
}

std::optional<PipeAction> pipe_action_from_string(std::string_view s) {
  for (PipeAction a : kAllActions)
    if (s == to_string(a)) return a;
  return std::nullopt;
}

const char* to_string(PipeEvent e) {
  switch (e) {
    case PipeEvent::Provisioned: return "provisioned";
    case PipeEvent::SetupDone: return "setup-done";
    case PipeEvent::SnapshotDone: return "snapshot-done";
    case PipeEvent::Paused: return "paused";
    case PipeEvent::ModifyDone: return "modify-done";
    case PipeEvent::ResyncLoadDone: return "resync-load-done";
    case PipeEvent::SwapDone: return "swap-done";
    case PipeEvent::Failed: return "failed";
  }
  return "?";
}

namespace {
using S = PipeState;

// DESIGN.md section 2, "allowed from".
bool allowed(PipeAction action, PipeState from) {
  switch (action) {
    case PipeAction::Pause: return from == S::Running || from == S::Snapshot;
    case PipeAction::Resume: return from == S::Paused || from == S::Failed;
    case PipeAction::Resync:
      return from == S::Running || from == S::Paused || from == S::Completed || from == S::Failed;
    case PipeAction::Reset: return from == S::Paused || from == S::Failed;
    case PipeAction::AddTables:
    case PipeAction::RemoveTables: return from == S::Running || from == S::Paused;
    case PipeAction::Delete: return true;
  }
  return false;
}

std::string allowed_list(PipeAction action) {
  std::string out;
  for (PipeState s : kAllStates) {
    if (!allowed(action, s)) continue;
    if (!out.empty()) out += ", ";
    out += to_string(s);
  }
  return out;
}
}  // namespace

bool action_allowed(PipeAction action, PipeState from) { return allowed(action, from); }

PipeState state_after_resume(PipeMode mode, bool snapshot_finished) {
  if (mode_snapshots(mode) && !snapshot_finished) return S::Snapshot;
  if (mode == PipeMode::Snapshot) return S::Completed;
  return S::Running;
}

ActionOutcome apply_action(PipeAction action, PipeState from, PipeMode mode) {
  if (!allowed(action, from)) {
    return Refusal{fmt::format("cannot {} a pipe in state {}; {} is allowed from: {}", to_string(action),
                               to_string(from), to_string(action), allowed_list(action))};
  }
  switch (action) {
    case PipeAction::Pause: return Accepted{S::Pausing};
    // Resume re-enters the work where the checkpoint says; the runner refines
    // Running into Snapshot when partitions remain.
    case PipeAction::Resume: return Accepted{mode == PipeMode::Snapshot ? S::Snapshot : S::Running};
    case PipeAction::Resync: return Accepted{S::Snapshot};
    case PipeAction::Reset: return Accepted{S::Setup};
    case PipeAction::AddTables: return Accepted{S::Snapshot};
    case PipeAction::RemoveTables: return Accepted{S::Modifying};
    case PipeAction::Delete: return Accepted{std::nullopt};
  }
  return Refusal{"unknown action"};
}

std::optional<PipeState> apply_event(PipeEvent event, PipeState from, PipeMode mode, PipeState resuming_to) {
  switch (event) {
    case PipeEvent::Provisioned:
      if (from == S::Provisioning) return S::Setup;
      break;
    case PipeEvent::SetupDone:
      if (from == S::Setup) return mode_snapshots(mode) ? S::Snapshot : S::Running;
      break;
    case PipeEvent::SnapshotDone:
      if (from == S::Snapshot) return mode == PipeMode::Snapshot ? S::Completed : S::Running;
      break;
    case PipeEvent::Paused:
      if (from == S::Pausing) return S::Paused;
      break;
    case PipeEvent::ModifyDone:
      if (from == S::Modifying && (resuming_to == S::Running || resuming_to == S::Paused)) return resuming_to;
      break;
    case PipeEvent::ResyncLoadDone:
      if (from == S::Snapshot) return S::Resync;
      break;
    case PipeEvent::SwapDone:
      if (from == S::Resync) return mode == PipeMode::Snapshot ? S::Completed : S::Running;
      break;
    case PipeEvent::Failed:
      if (from != S::Failed && from != S::Completed && from != S::Paused) return S::Failed;
      break;
  }
  return std::nullopt;
}

}  // namespace ferry
