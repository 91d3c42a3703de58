#include "pipe/capability_check.h"


namespace ferry {

std::string source_mode_problem(PipeMode mode, const SourceCapabilities& source, PeerType source_type) {
  if (mode_streams(mode) && !source.change_stream)
    return std::string("streams changes, which a ") + to_string(source_type) + " source cannot";
  if (mode == PipeMode::Incremental && !source.incremental)
    return std::string("copies incrementally, which a ") + to_string(source_type) + " source cannot";
  return {};
}

std::string destination_mode_problem(PipeMode mode, const DestinationCapabilities& destination,
                                     PeerType destination_type) {
  if (mode_streams(mode) && !destination.apply_changes)
    return std::string("applies changes, which a ") + to_string(destination_type) + " destination cannot";
  return {};
}

}  // namespace ferry
