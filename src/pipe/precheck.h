// Pre-check (DESIGN.md section 6): named checks against the real servers, each
// pass / warn / fail with a one-line reason and a hint how to fix it.
//
// The per-database checks live with the connectors (Source::precheck,
// Destination::precheck; results are core/check.h); run_precheck opens both ends, collects their checks
// and never throws for a server problem: a connection failure is one failing
// "connectivity" check, and the checks that need the connection are reported
// as failed with reason "not connected".
#pragma once
#include <string>
#include <vector>

#include "core/check.h"

namespace ferry {

struct PipeSpec;
struct PeerSpec;

// Runs the source's and the destination's checks for `pipe`. `new_pipe`: the
// pipe is not yet in the catalog (non-empty destination tables are a warning).
// Also, per table: the destination's support for its settings (order_by, column_types)
// and whether the current values of columns whose destination type is narrower than
// the source's fit it (min/max; skipped for very large tables).
PrecheckReport run_precheck(const PipeSpec& pipe, const PeerSpec& source, const PeerSpec& destination, bool new_pipe);

// The settings of `pipe` that the destination server cannot honour (Config errors of
// Destination::check_table, joined with "; "), "" when none. Unreachable servers and
// missing tables are not settings problems (""). For changes to existing pipes:
// refused before anything is stored or changed.
std::string destination_settings_problem(const PipeSpec& pipe, const PeerSpec& source, const PeerSpec& destination);

}  // namespace ferry
