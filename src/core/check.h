// Results of named pre-check items (pass / warn / fail, a one-line reason and a hint),
// plain data the connectors produce and pipe/precheck.h collects.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace ferry {

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

}  // namespace ferry
