// Whether a pipe's mode can run between two connectors, asked from their capabilities
// (connectors/api/source.h, destination.h) rather than found out mid-run. Pure.
#pragma once
#include <string>

#include "connectors/api/destination.h"
#include "connectors/api/source.h"
#include "core/spec.h"

namespace ferry {

// What `mode` needs that the source lacks, e.g. "streams changes, which a clickhouse
// source cannot"; "" when it can run. `source_type` names the source in the reason.
std::string source_mode_problem(PipeMode mode, const SourceCapabilities& source, PeerType source_type);
// The same for the destination.
std::string destination_mode_problem(PipeMode mode, const DestinationCapabilities& destination,
                                     PeerType destination_type);

}  // namespace ferry
