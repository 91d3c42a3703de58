// Pre-check (DESIGN.md section 6): named checks against the real servers, each
// pass / warn / fail with a one-line reason and a hint how to fix it.
//
// The per-database checks live with the connectors (Source::precheck,
// Destination::precheck); run_precheck opens both ends, collects their checks
// and never throws for a server problem: a connection failure is one failing
// "connectivity" check, and the checks that need the connection are reported
// as failed with reason "not connected".
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace ferry {

struct PipeSpec;
struct PeerSpec;

struct CheckResult {
  enum Status { Pass, Warn, Fail };
  std::string name;    // e.g. "source connectivity", "source wal_level", "table public.orders primary key"
  Status status = Pass;
  std::string reason;  // one line
  std::string hint;    // how to fix it (empty for Pass)
};
const char* to_string(CheckResult::Status s);  // "PASS" | "WARN" | "FAIL"

struct PrecheckReport {
  std::vector<CheckResult> checks;

  int passed() const;
  int warned() const;
  int failed() const;
  // Share of checks that do not fail (passed + warned) over all checks, 0..100;
  // 100 when there are no checks. A warning counts as success here: whether it
  // blocks is decided by ok(confirm).
  double success_rate() const;
  // No failure, and no warning unless the user confirmed (--confirm).
  bool ok(bool confirm) const;

  // Lines as `ferry check` prints them:
  //   PASS  name  reason
  //   WARN  name  reason
  //         hint: ...
  //   success rate: N% (P passed, W warnings, F failed)
  std::string to_text() const;
  // {"success_rate": N, "passed","warnings","failed", "checks":[{"name","status":"pass|warn|fail","reason","hint"}]}
  nlohmann::json to_json() const;
};

// Helpers for connectors.
CheckResult check_pass(std::string name, std::string reason);
CheckResult check_warn(std::string name, std::string reason, std::string hint);
CheckResult check_fail(std::string name, std::string reason, std::string hint);

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
