// One code path for "a pipe's config changed", shared by `ferry run`, `ferry
// apply` / POST /api/v1/apply and `ferry server -f`.
//
// For a pipe already in the catalog whose spec differs from the new one:
//  1. settings the destination cannot honour are refused (nothing changes);
//  2. a changed table list is refused unless the pipe's state allows adding or
//     removing tables (nothing changes);
//  3. the new spec is stored;
//  4. tables added or removed are changed (PipeRunner::change_tables). A
//     refusal there puts the old spec back. The spec is stored before the
//     change so that a crash in the middle leaves spec and tables disagreeing,
//     which the runner finishes on its next start (finish_interrupted_table_change).
// A pipe not in the catalog is pre-checked (warnings pass only with `confirm`)
// and then created. A pipe whose spec is unchanged is left alone.
//
// The callers keep what is theirs: printing, exit codes, and (the server)
// stopping and restarting the pipe's runner around step 4.
#pragma once
#include <functional>
#include <optional>
#include <string>

#include "catalog/catalog.h"
#include "pipe/precheck.h"
#include "core/spec.h"

namespace ferry {

// Steps 1-2 decided from the catalog record alone (pure; no server is asked).
struct ConfigChangePlan {
  enum Kind {
    Create,        // not in the catalog: pre-check, then create
    Unchanged,     // same spec
    UpdateSpec,    // same tables: only the spec is stored (used on the pipe's next start)
    ChangeTables,  // store the spec, then add/remove `tables`
    Refuse,        // the state does not allow the table change: `refusal`
  };
  Kind kind = Unchanged;
  TableListChange tables;  // ChangeTables
  std::string refusal;     // Refuse: names the action and the state
};
// `current`: the pipe's catalog record, nullopt when it has none.
ConfigChangePlan plan_pipe_config(const std::optional<PipeRecord>& current, const PipeSpec& new_spec);

struct ConfigChangeOutcome {
  enum Result { Created, Updated, Unchanged, Refused };
  // Which step refused (Refused only).
  enum Step { None, DestinationSettings, TableChange, Precheck };
  Result result = Unchanged;
  Step refused_by = None;
  std::string message;  // Refused: why, without the pipe's name
  std::optional<PrecheckReport> precheck;  // refused_by Precheck: the report
  bool tables_changed = false;             // Updated: step 4 ran
};

struct ConfigChangeOptions {
  bool confirm = false;  // new pipes: accept pre-check warnings
  // History reason recorded when a new pipe is created.
  std::string created_reason = "pipe created";
  // Called once right before the spec of a table change is stored (step 3),
  // e.g. to stop the pipe's runner: change_tables needs the pipe not running.
  std::function<void()> before_table_change;
};

// Carries out the change of `new_spec` (see the top of this file). Talks to
// `source` and `destination` (settings check, pre-check, table change).
// Throws what the checks or PipeRunner::change_tables throw; after a throw in
// step 4 the new spec stays stored. Not safe to call concurrently for the same
// pipe; the catalog must be thread-safe when other threads use it meanwhile.
ConfigChangeOutcome apply_pipe_config(Catalog& catalog, const PipeSpec& new_spec, const PeerSpec& source,
                                      const PeerSpec& destination, const ConfigChangeOptions& options = {});

}  // namespace ferry
