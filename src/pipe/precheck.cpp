#include "pipe/precheck.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "connectors/api/destination.h"
#include "connectors/api/source.h"
#include "core/error.h"
#include "pipe/capability_check.h"
#include "pipe/incremental.h"
#include "pipe/runner.h"
#include "core/spec.h"

namespace ferry {

namespace {

// What a table without a key does to a pipe of `mode` from a source of `type`, and how to give it one.
std::pair<std::string, std::string> keyless_effect_and_hint(PipeMode mode, PeerType type) {
  if (mode == PipeMode::Incremental)
    return {"an updated row is copied again as a new row next to its earlier copy",
            "add a primary key, or confirm with --confirm"};
  if (!mode_streams(mode))
    return {"a partition loaded again after a crash can leave duplicate rows",
            "add a primary key, or confirm with --confirm"};
  if (type == PeerType::MySQL)
    return {"updates and deletes cannot be matched to destination rows: each change is appended as a row of its own",
            "add a primary key (or a UNIQUE index on NOT NULL columns, which ferry takes as the key), or confirm "
            "with --confirm"};
  return {"updates and deletes cannot be matched to destination rows, and PostgreSQL refuses UPDATE/DELETE on a "
          "published table without replica identity",
          "add a primary key (or ALTER TABLE ... REPLICA IDENTITY FULL or USING INDEX on a unique NOT NULL index), "
          "or confirm with --confirm"};
}

// Per table of the pipe: exists (describe), SELECT privilege (check_readable), primary
// key or replica identity FULL (warn otherwise), and for incremental pipes the cursor
// column (exists, type allowed by cursor_type_problem, NOT NULL: warn).
void precheck_source_tables(const PipeSpec& pipe, PeerType source_type, Source& source, std::vector<CheckResult>& out) {
  for (const auto& mapping : pipe.tables) {
    const std::string& name = mapping.source;
    TableSchema table;
    try {
      table = source.describe(name);
      out.push_back(check_pass("table " + name + " exists", fmt::format("{} columns", table.columns.size())));
    } catch (const std::exception& e) {
      out.push_back(check_fail("table " + name + " exists", e.what(),
                               "create the table or fix its name (schema.table) in the pipe's tables"));
      continue;
    }
    try {
      source.check_readable(table);
      out.push_back(check_pass("table " + name + " SELECT privilege", "readable"));
    } catch (const std::exception& e) {
      out.push_back(check_fail("table " + name + " SELECT privilege", e.what(),
                               "grant SELECT on the table to the pipe's source user"));
    }
    std::string key_check = "table " + name + " primary key";
    if (!table.key_columns().empty()) {
      std::string cols;
      for (const auto& c : table.key_columns()) cols += (cols.empty() ? "" : ", ") + c;
      out.push_back(check_pass(key_check, "key (" + cols + ")"));
    } else if (table.replica_identity == "f" && mode_streams(pipe.mode)) {
      out.push_back(check_pass(key_check, "no primary key, but REPLICA IDENTITY FULL"));
    } else {
      auto [effect, hint] = keyless_effect_and_hint(pipe.mode, source_type);
      out.push_back(check_warn(key_check, "table has no primary key: " + effect, hint));
    }
    if (pipe.mode == PipeMode::Incremental) {
      std::string check = "table " + name + " cursor column";
      const Column* c = mapping.cursor.empty() ? nullptr : table.find(mapping.cursor);
      if (mapping.cursor.empty()) {
        out.push_back(check_fail(check, "no cursor column configured", "set tables[].cursor for incremental pipes"));
      } else if (!c) {
        out.push_back(check_fail(check, fmt::format("cursor column \"{}\" does not exist", mapping.cursor),
                                 "name an existing column that grows on every insert and update"));
      } else if (std::string why = cursor_type_problem(*c); !why.empty()) {
        out.push_back(check_fail(check, fmt::format("cursor column \"{}\" has type {}: {}", c->name, c->source_type, why),
                                 "use a numeric, character or temporal column (date, timestamp) that grows on every "
                                 "insert and update"));
      } else if (c->nullable) {
        out.push_back(check_warn(check,
                                 fmt::format("cursor column \"{}\" ({}) is nullable: rows with a NULL cursor are never "
                                             "copied",
                                             c->name, c->source_type),
                                 "make the column NOT NULL, or confirm with --confirm"));
      } else {
        out.push_back(check_pass(check, fmt::format("\"{}\" ({}), NOT NULL", c->name, c->source_type)));
      }
    }
  }
}

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
      if (!src.capabilities().column_ranges) {
        out.push_back(check_warn(name, fmt::format("this source cannot report the column's range; values {} cannot "
                                                   "hold follow on_unrepresentable={}", type,
                                                   to_string(pipe.settings.on_unrepresentable)),
                                 "confirm with --confirm, or set column_types: {" + column + ": String}"));
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
  auto passed = [&](const std::string& name) {
    return std::any_of(report.checks.begin(), report.checks.end(),
                       [&](const CheckResult& c) { return c.name == name && c.status != CheckResult::Fail; });
  };
  std::unique_ptr<Source> src;
  std::unique_ptr<Destination> dst;
  try {
    src = make_source(source);
    src->precheck(pipe, report.checks);
  } catch (const std::exception& e) {
    report.checks.push_back(check_fail("source connectivity", e.what(), "check the source peer's configuration"));
  }
  if (passed("source connectivity")) {
    precheck_source_tables(pipe, source.type, *src, report.checks);
  } else {
    for (const auto& t : pipe.tables) report.checks.push_back(check_fail("table " + t.source + " exists", "not connected", ""));
  }
  try {
    dst = make_destination(destination);
    dst->precheck(pipe, new_pipe, report.checks);
  } catch (const std::exception& e) {
    report.checks.push_back(check_fail("destination connectivity", e.what(), "check the destination peer's configuration"));
  }
  if (passed("source connectivity") && passed("destination connectivity")) {
    try {
      precheck_destination_fit(pipe, *src, *dst, report.checks);
    } catch (const std::exception& e) {
      report.checks.push_back(check_fail("destination settings", e.what(), "see the reason"));
    }
  }
  if (src && dst) {
    std::string why = source_mode_problem(pipe.mode, src->capabilities(), source.type);
    if (why.empty()) why = destination_mode_problem(pipe.mode, dst->capabilities(), destination.type);
    if (why.empty())
      report.checks.push_back(check_pass("pipe mode", std::string(to_string(pipe.mode)) + " is supported"));
    else
      report.checks.push_back(check_fail("pipe mode", std::string("mode ") + to_string(pipe.mode) + " " + why,
                                         "choose a mode both peers support"));
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
