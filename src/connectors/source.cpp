#include "connectors/source.h"

#include <fmt/format.h>

#include "core/error.h"
#include "pipe/incremental.h"
#include "pipe/precheck.h"
#include "pipe/spec.h"

namespace ferry {

namespace {
[[noreturn]] void no_stream() { throw Error(ErrorKind::Permanent, "this source cannot stream changes"); }
}  // namespace

void Source::prepare_stream(const std::string&, const std::vector<std::string>&) { no_stream(); }
bool Source::stream_exists(const std::string&) { no_stream(); }
std::unique_ptr<SnapshotPoint> Source::create_stream(const std::string&, bool, uint64_t&) { no_stream(); }
std::unique_ptr<ChangeStream> Source::open_stream(const std::string&, uint64_t) { no_stream(); }
void Source::drop_stream(const std::string&) {}
int64_t Source::stream_lag_bytes(const std::string&) { return 0; }
std::string Source::format_position(uint64_t position) const { return std::to_string(position); }
uint64_t Source::parse_position(const std::string& text) const { return std::stoull(text); }

namespace {
[[noreturn]] void no_incremental() { throw Error(ErrorKind::Permanent, "this source cannot copy incrementally"); }
}  // namespace

CursorProbe Source::probe_cursor(const TableSchema&, const std::string&, const std::optional<std::string>&) {
  no_incremental();
}
std::unique_ptr<CopyStream> Source::read_range(const TableSchema&, const std::string&,
                                               const std::optional<std::string>&, const std::string&) {
  no_incremental();
}

void Source::precheck(const PipeSpec& pipe, std::vector<CheckResult>& out) {
  try {
    out.push_back(check_pass("source connectivity", "connected: " + server_version()));
  } catch (const std::exception& e) {
    out.push_back(check_fail("source connectivity", e.what(),
                             "check that the source server runs and that the peer's address, user and password are right"));
    for (const auto& t : pipe.tables) out.push_back(check_fail("table " + t.source + " exists", "not connected", ""));
    return;
  }
  precheck_tables(pipe, out);
}

std::pair<std::optional<std::string>, std::optional<std::string>> Source::column_min_max(const TableSchema&,
                                                                                       const std::string&) {
  throw Error(ErrorKind::Permanent, "this source cannot report column ranges");
}

void Source::precheck_tables(const PipeSpec& pipe, std::vector<CheckResult>& out) {
  for (const auto& mapping : pipe.tables) {
    const std::string& name = mapping.source;
    TableSchema table;
    try {
      table = describe(name);
      out.push_back(check_pass("table " + name + " exists", fmt::format("{} columns", table.columns.size())));
    } catch (const std::exception& e) {
      out.push_back(check_fail("table " + name + " exists", e.what(),
                               "create the table or fix its name (schema.table) in the pipe's tables"));
      continue;
    }
    try {
      check_readable(table);
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
      std::string effect =
          pipe.mode == PipeMode::Incremental
              ? "an updated row is copied again as a new row next to its earlier copy"
              : mode_streams(pipe.mode) ? "updates and deletes cannot be matched to destination rows, and PostgreSQL "
                                          "refuses UPDATE/DELETE on a published table without replica identity"
                                        : "a partition loaded again after a crash can leave duplicate rows";
      out.push_back(check_warn(key_check, "table has no primary key: " + effect,
                               "add a primary key (or, for PostgreSQL CDC, ALTER TABLE ... REPLICA IDENTITY FULL or "
                               "USING INDEX on a unique NOT NULL index), or confirm with --confirm"));
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

}  // namespace ferry
