// The pipe lifecycle of DESIGN.md section 2 as a pure state machine.
//
// Two kinds of input move a pipe:
//  - user actions (pause, resume, resync, reset, add/remove tables, delete),
//    checked against the allowed-from table and refused with a message that
//    names the current state;
//  - progress events reported by the runner's phases (setup done, snapshot
//    done, paused, failed...), which are the only other way a state changes.
// Nothing here does I/O; the runner applies the outcome and records it.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/pipe_state.h"
#include "core/spec.h"

namespace ferry {

enum class PipeAction { Pause, Resume, Resync, Reset, AddTables, RemoveTables, Delete };
inline constexpr PipeAction kAllActions[] = {
    PipeAction::Pause,     PipeAction::Resume,       PipeAction::Resync, PipeAction::Reset,
    PipeAction::AddTables, PipeAction::RemoveTables, PipeAction::Delete,
};
const char* to_string(PipeAction a);
std::optional<PipeAction> pipe_action_from_string(std::string_view s);

// Whether the action is allowed from the state (DESIGN.md section 2 table).
bool action_allowed(PipeAction action, PipeState from);

struct Refusal {
  std::string message;  // names the action and the current state
};
// The state a pipe enters when the action is accepted. Delete has no next
// state (the pipe disappears) and yields nullopt inside the success branch.
struct Accepted {
  std::optional<PipeState> next;
};
using ActionOutcome = std::variant<Accepted, Refusal>;
ActionOutcome apply_action(PipeAction action, PipeState from, PipeMode mode);

// Progress reported by the runner's phases.
enum class PipeEvent {
  Provisioned,     // Provisioning -> Setup
  SetupDone,       // Setup -> Snapshot (snapshot modes) | Running (cdc, incremental)
  SnapshotDone,    // Snapshot -> Completed (snapshot) | Running (others)
  Paused,          // Pausing -> Paused
  ModifyDone,      // Modifying -> Running | Paused (back to where it was)
  ResyncLoadDone,  // Snapshot -> Resync (resync load finished, swap next)
  SwapDone,        // Resync -> Running | Completed
  Failed,          // any non-terminal -> Failed
};
const char* to_string(PipeEvent e);

// Returns the next state, or nullopt when the event makes no sense in `from`
// (a runner bug: callers treat it as an internal error, never ignore it).
// `resuming_to` is used by ModifyDone: the state the pipe was in before.
std::optional<PipeState> apply_event(PipeEvent event, PipeState from, PipeMode mode,
                                     PipeState resuming_to = PipeState::Running);

// The state a pipe enters when it starts working again (resume, or a server
// restart finding it mid-flight): where its mode's work continues.
PipeState state_after_resume(PipeMode mode, bool snapshot_finished);

}  // namespace ferry
