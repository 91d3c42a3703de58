#include "core/pipe_state.h"

namespace ferry {

const char* to_string(PipeState s) {
  switch (s) {
    case PipeState::Provisioning: return "Provisioning";
    case PipeState::Setup: return "Setup";
    case PipeState::Snapshot: return "Snapshot";
    case PipeState::Running: return "Running";
    case PipeState::Pausing: return "Pausing";
    case PipeState::Paused: return "Paused";
    case PipeState::Modifying: return "Modifying";
    case PipeState::Resync: return "Resync";
    case PipeState::Completed: return "Completed";
    case PipeState::Failed: return "Failed";
  }
  return "?";
}

std::optional<PipeState> pipe_state_from_string(std::string_view s) {
  for (PipeState st : kAllStates)
    if (s == to_string(st)) return st;
  return std::nullopt;
}

}  // namespace ferry
