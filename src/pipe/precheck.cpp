#include "pipe/precheck.h"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "connectors/destination.h"
#include "connectors/source.h"
#include "core/error.h"
#include "pipe/runner.h"
#include "pipe/spec.h"

namespace ferry {

const char* to_string(CheckResult::Status s) {
  switch (s) {
    case CheckResult::Pass: return "PASS";
    case CheckResult::Warn: return "WARN";
    case CheckResult::Fail: return "FAIL";
  }
  return "?";
}

namespace {
int count(const std::vector<CheckResult>& checks, CheckResult::Status s) {
  int n = 0;
  for (const auto& c : checks) n += c.status == s;
  return n;
}
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}
}  // namespace

int PrecheckReport::passed() const { return count(checks, CheckResult::Pass); }
int PrecheckReport::warned() const { return count(checks, CheckResult::Warn); }
int PrecheckReport::failed() const { return count(checks, CheckResult::Fail); }

double PrecheckReport::success_rate() const {
  if (checks.empty()) return 100.0;
  return 100.0 * double(passed() + warned()) / double(checks.size());
}

bool PrecheckReport::ok(bool confirm) const { return failed() == 0 && (confirm || warned() == 0); }

std::string PrecheckReport::to_text() const {
  size_t width = 0;
  for (const auto& c : checks) width = std::max(width, c.name.size());
  std::string out;
  for (const auto& c : checks) {
    std::string line = fmt::format("{}  {:<{}}  {}", to_string(c.status), c.name, width, one_line(c.reason));
    out += one_line(line) + "\n";
    if (c.status != CheckResult::Pass && !c.hint.empty()) out += fmt::format("      hint: {}\n", one_line(c.hint));
  }
  // Floor, so that 99.6% never shows as 100%.
  out += fmt::format("success rate: {}% ({} passed, {} warnings, {} failed)\n", int(std::floor(success_rate())),
                     passed(), warned(), failed());
  return out;
}

nlohmann::json PrecheckReport::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : checks) {
    std::string status = c.status == CheckResult::Pass ? "pass" : c.status == CheckResult::Warn ? "warn" : "fail";
    list.push_back({{"name", c.name}, {"status", status}, {"reason", one_line(c.reason)}, {"hint", c.hint}});
  }
  return {{"success_rate", int(std::floor(success_rate()))},
          {"passed", passed()},
          {"warnings", warned()},
          {"failed", failed()},
          {"checks", list}};
}

CheckResult check_pass(std::string name, std::string reason) {
  return {std::move(name), CheckResult::Pass, std::move(reason), ""};
}
CheckResult check_warn(std::string name, std::string reason, std::string hint) {
  return {std::move(name), CheckResult::Warn, std::move(reason), std::move(hint)};
}
CheckResult check_fail(std::string name, std::string reason, std::string hint) {
  return {std::move(name), CheckResult::Fail, std::move(reason), std::move(hint)};
}

namespace {

// Tables bigger than this are not scanned for min/max by the pre-check.
constexpr int64_t kRangeScanMaxRows = 20'000'000;

const char* policy_effect(OnUnrepresentable p) {
  switch (p) {
    case OnUnrepresentable::Null: return "written as NULL and counted";
    case OnUnrepresentable::Clamp: return "clamped to the type's range and counted";
    default: return "failing the pipe";
  }
}

// Per table: the destination honours its settings (check_table), and the current
// values of the columns whose destination type is narrower fit it (min/max).
void precheck_destination_fit(const PipeSpec& pipe, Source& src, Destination& dst, std::vector<CheckResult>& out) {
  for (const auto& m : pipe.tables) {
    TableSchema schema;
    try {
      schema = project_table(src.describe(m.source), m);
    } catch (const std::exception&) {
      continue;  // the source's own checks report it
    }
    const DestinationTable dt = destination_table(pipe, m);
    const std::string settings = "table " + m.source + " destination settings";
    try {
      dst.check_table(schema, dt);
      out.push_back(check_pass(settings, "order key and column types are supported"));
    } catch (const std::exception& e) {
      out.push_back(check_fail(settings, e.what(), "change the table's order_by / column_types in the config"));
      continue;
    }
    for (const auto& [column, type] : dst.narrower_columns(schema, dt)) {
      const std::string name = "table " + m.source + " column " + column + " values";
      if (schema.estimated_rows > kRangeScanMaxRows) {
        out.push_back(check_pass(name, fmt::format("not scanned (about {} rows); values {} cannot hold follow "
                                                   "on_unrepresentable={}", schema.estimated_rows, type,
                                                   to_string(pipe.settings.on_unrepresentable))));
        continue;
      }
      std::optional<std::string> lo, hi;
      try {
        std::tie(lo, hi) = src.column_min_max(schema, column);
      } catch (const std::exception& e) {
        out.push_back(check_warn(name, std::string("could not read min/max: ") + e.what(), "see the reason"));
        continue;
      }
      std::vector<std::string> outside;
      for (const auto& v : {lo, hi})
        if (v && !dst.value_fits(schema, dt, column, *v)) outside.push_back(*v);
      if (outside.empty()) {
        out.push_back(check_pass(name, lo ? fmt::format("{} .. {} fit {}", *lo, *hi, type) : "no values yet"));
        continue;
      }
      std::string reason = fmt::format("{} cannot hold {} (values range {} .. {}): such values would be {}", type,
                                       fmt::join(outside, " and "), *lo, *hi,
                                       policy_effect(pipe.settings.on_unrepresentable));
      std::string hint = fmt::format("set column_types: {{{}: String}} on the table to keep the source text, or the "
                                     "pipe setting on_unrepresentable: text | null | clamp",
                                     column);
      switch (pipe.settings.on_unrepresentable) {
        case OnUnrepresentable::Null:
        case OnUnrepresentable::Clamp:
          out.push_back(check_warn(name, reason, "confirm with --confirm, or " + hint));
          break;
        default:
          out.push_back(check_fail(name, reason, hint));
      }
    }
  }
}

}  // namespace

std::string destination_settings_problem(const PipeSpec& pipe, const PeerSpec& source, const PeerSpec& destination) {
  std::string problems;
  try {
    std::unique_ptr<Source> src = make_source(source);
    std::unique_ptr<Destination> dst = make_destination(destination);
    for (const auto& m : pipe.tables) {
      TableSchema schema;
      try {
        schema = project_table(src->describe(m.source), m);
      } catch (const std::exception&) {
        continue;  // not a settings problem: the pipe reports it when it runs
      }
      try {
        dst->check_table(schema, destination_table(pipe, m));
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::Config) continue;
        problems += (problems.empty() ? "" : "; ") + std::string(e.what());
      }
    }
  } catch (const std::exception&) {
    // unreachable servers are not a settings problem
  }
  return problems;
}

PrecheckReport run_precheck(const PipeSpec& pipe, const PeerSpec& source, const PeerSpec& destination, bool new_pipe) {
  PrecheckReport report;
  try {
    std::unique_ptr<Source> src = make_source(source);
    src->precheck(pipe, report.checks);
  } catch (const std::exception& e) {
    report.checks.push_back(check_fail("source connectivity", e.what(), "check the source peer's configuration"));
  }
  try {
    std::unique_ptr<Destination> dst = make_destination(destination);
    dst->precheck(pipe, new_pipe, report.checks);
  } catch (const std::exception& e) {
    report.checks.push_back(check_fail("destination connectivity", e.what(), "check the destination peer's configuration"));
  }
  bool connected = true;
  for (const auto& c : report.checks) connected &= !(c.name.find("connectivity") != std::string::npos && c.status == CheckResult::Fail);
  if (connected) {
    try {
      std::unique_ptr<Source> src = make_source(source);
      std::unique_ptr<Destination> dst = make_destination(destination);
      precheck_destination_fit(pipe, *src, *dst, report.checks);
    } catch (const std::exception& e) {
      report.checks.push_back(check_fail("destination settings", e.what(), "see the reason"));
    }
  }
  // A property of the mode the user chose, not a problem of the servers: reported as a
  // pass so that it is seen, without making --confirm a routine for every incremental pipe.
  if (pipe.mode == PipeMode::Incremental)
    report.checks.push_back(check_pass("incremental deletes",
                                       "note: deletes are not propagated in incremental mode (rows deleted at the "
                                       "source stay at the destination); use snapshot+cdc to propagate them"));
  return report;
}

}  // namespace ferry
