// The states a pipe is shown in (DESIGN.md section 2), plain data shared by the catalog
// and the lifecycle state machine (pipe/lifecycle.h).
#pragma once
#include <optional>
#include <string_view>

namespace ferry {

enum class PipeState {
  Provisioning, Setup, Snapshot, Running, Pausing, Paused, Modifying, Resync, Completed, Failed,
};
inline constexpr PipeState kAllStates[] = {
    PipeState::Provisioning, PipeState::Setup,     PipeState::Snapshot, PipeState::Running,
    PipeState::Pausing,      PipeState::Paused,    PipeState::Modifying, PipeState::Resync,
    PipeState::Completed,    PipeState::Failed,
};
const char* to_string(PipeState s);
std::optional<PipeState> pipe_state_from_string(std::string_view s);

}  // namespace ferry
