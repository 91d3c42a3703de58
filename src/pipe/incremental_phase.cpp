// The incremental phase of the runner (state Running, mode incremental):
// periodic copies of the rows whose cursor column grew (DESIGN.md section 5).
//
// One run:
//  1. takes the next run number, which is also the version its rows carry at
//     the destination, and stores it before anything is copied (a re-copy after
//     a failure always carries a higher version than the copy it repeats, and
//     the current source values: it never regresses a row);
//  2. reads every table's upper bound = max(cursor) at the source, counts NULL
//     cursors and checks that the maximum did not go below the stored cursor;
//  3. waits increment_delay, so that transactions that began before the bound
//     and commit late are visible;
//  4. per table copies last < cursor <= upper (the first run: cursor <= upper, or
//     cursor > initial_value) as upserts, and only after the destination
//     accepted them stores upper as the table's cursor.
// A failed run leaves the stored cursors where they were: the next attempt
// copies the same range again (up to a possibly higher bound).
#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "connectors/api/destination.h"
#include "connectors/api/source.h"
#include "core/error.h"
#include "core/log.h"
#include "pipe/incremental.h"
#include "pipe/runner.h"
#include "pipe/unrepresentable.h"

namespace ferry {

using nlohmann::json;

namespace {

std::string lower_ascii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// ClickHouse wraps types: Nullable(LowCardinality(String)) -> string.
std::string unwrap_type(std::string t) {
  t = lower_ascii(t);
  for (bool again = true; again;) {
    again = false;
    for (const char* w : {"nullable(", "lowcardinality("}) {
      if (starts_with(t, w) && t.back() == ')') {
        t = t.substr(std::string(w).size(), t.size() - std::string(w).size() - 1);
        again = true;
      }
    }
  }
  return t;
}

// LogicalType::String also carries text renderings of other types (PostgreSQL money,
// xml, ranges, geometry...): only real character types are ordered like their text.
bool is_character_type(const std::string& source_type) {
  std::string t = unwrap_type(source_type);
  if (t.empty()) return false;
  // (PostgreSQL "name" and "char" are left out: they have no max().)
  for (const char* p : {"text", "character", "varchar", "char", "citext", "string", "fixedstring", "nvarchar", "nchar",
                        "clob", "bpchar", "tinytext", "mediumtext", "longtext"})
    if (starts_with(t, p)) return true;
  return false;
}

json load_status(Catalog& catalog, const std::string& pipe) {
  auto text = catalog.get_meta(pipe, kIncrementalStatusMeta);
  if (!text) return json::object();
  json j = json::parse(*text, nullptr, false);
  return j.is_object() ? j : json::object();
}

json time_or_null(const json& ms) {
  return ms.is_number() && ms.get<int64_t>() > 0 ? json(format_time_utc(ms.get<int64_t>())) : json();
}

}  // namespace

std::string cursor_type_problem(const Column& column) {
  switch (column.type) {
    case LogicalType::Int8:
    case LogicalType::Int16:
    case LogicalType::Int32:
    case LogicalType::Int64:
    case LogicalType::UInt8:
    case LogicalType::UInt16:
    case LogicalType::UInt32:
    case LogicalType::UInt64:
    case LogicalType::Year:
    case LogicalType::Float32:
    case LogicalType::Float64:
    case LogicalType::Decimal:
    case LogicalType::NumericText:
    case LogicalType::Date:
    case LogicalType::Timestamp:
    case LogicalType::TimestampTz:
      return "";
    case LogicalType::String:
      if (is_character_type(column.source_type)) return "";
      return "it is stored as text but is not a character type, so its order does not follow its values";
    case LogicalType::Uuid:
      return "UUIDs have no order that grows with inserts and updates";
    case LogicalType::Time:
      return "a time of day wraps around every day";
    case LogicalType::Interval:
      return "an interval is a duration, not a point that grows";
    case LogicalType::Bool:
      return "a boolean has only two values";
    default:
      return "only numeric, character and temporal (date, timestamp) columns can be cursors";
  }
}

namespace {

const Column& require_cursor(const TableSchema& table, const TableMapping& mapping) {
  const Column* c = table.find(mapping.cursor);
  if (!c)
    throw Error(ErrorKind::Permanent, fmt::format("table {}: cursor column \"{}\" does not exist in the source table",
                                                  table.display_name(), mapping.cursor));
  std::string why = cursor_type_problem(*c);
  if (!why.empty())
    throw Error(ErrorKind::Permanent,
                fmt::format("table {}: cursor column \"{}\" has type {}, which cannot be a cursor: {}; use a numeric, "
                            "character or temporal column (date, timestamp) that grows on every insert and update",
                            table.display_name(), c->name, c->source_type, why));
  return *c;
}

}  // namespace

void check_incremental_table(const TableSchema& table, const TableMapping& mapping) {
  check_cursor_column(table, mapping);
  // Incremental loads write whole rows without looking up what is stored, so a row
  // whose non-key order_by value changed would stay live under its old ORDER BY tuple.
  auto keys = table.key_columns();
  for (const auto& col : mapping.order_by)
    if (std::find(keys.begin(), keys.end(), col) == keys.end())
      throw Error(ErrorKind::Permanent,
                  fmt::format("table {}: order_by column \"{}\" is not part of the primary key; incremental pipes "
                              "support only key columns in order_by (use mode cdc for other order keys)",
                              table.display_name(), col));
}

void check_cursor_column(const TableSchema& table, const TableMapping& mapping) {
  const Column* c = &require_cursor(table, mapping);
  if (c->nullable)
    spdlog::info("table {}: cursor column \"{}\" is nullable; rows with a NULL cursor are never copied (each run counts "
                 "and reports them)",
                 table.display_name(), c->name);
  if (table.key_columns().empty())
    spdlog::warn("table {} has no primary key: an updated row is copied again as a new row next to its earlier copy",
                 table.display_name());
  spdlog::info("table {}: incremental copy by cursor \"{}\"; rows deleted at the source are not deleted at the "
               "destination",
               table.display_name(), c->name);
}

json incremental_status_json(Catalog& catalog, const std::string& pipe) {
  auto text = catalog.get_meta(pipe, kIncrementalStatusMeta);
  if (!text) return json();
  json s = json::parse(*text, nullptr, false);
  if (!s.is_object()) return json();
  json out;
  out["run"] = s.value("run", int64_t(0));
  out["phase"] = s.value("phase", std::string("idle"));
  out["next_run_at"] = time_or_null(s.value("next_run_at_ms", json()));
  if (s.contains("delay_until_ms") && out["phase"] == "waiting") out["copy_at"] = time_or_null(s["delay_until_ms"]);
  if (s.contains("last_run") && s["last_run"].is_object()) {
    const json& l = s["last_run"];
    out["last_run"] = {{"run", l.value("run", int64_t(0))},
                       {"started_at", time_or_null(l.value("started_at_ms", json()))},
                       {"finished_at", time_or_null(l.value("finished_at_ms", json()))},
                       {"rows", l.value("rows", int64_t(0))},
                       {"result", l.value("result", std::string())}};
  } else {
    out["last_run"] = json();
  }
  out["tables"] = json::array();
  if (s.contains("tables") && s["tables"].is_object()) {
    for (const auto& [source, t] : s["tables"].items()) {
      auto cursor = catalog.checkpoint(pipe, source);
      out["tables"].push_back({{"source", source},
                               {"cursor_column", t.value("cursor_column", std::string())},
                               {"cursor", cursor ? json(*cursor) : json()},
                               {"upper", t.value("upper", json())},
                               {"rows_last_run", t.value("rows_last_run", int64_t(0))},
                               {"rows_total", t.value("rows_total", int64_t(0))},
                               {"null_cursor_rows", t.value("null_cursor_rows", int64_t(0))},
                               {"cursor_went_backwards", t.value("cursor_went_backwards", false)},
                               {"warnings", t.value("warnings", json::array())}});
    }
  }
  return out;
}

bool PipeRunner::incremental() {
  if (!options_.once) {
    // The schedule counts from the start of the previous run; a restart keeps it.
    json status = load_status(catalog_, pipe_.name);
    int64_t next = status.value("next_run_at_ms", int64_t(0));
    while (!stopping()) {
      int64_t now = to_epoch_ms(options_.clock->now());
      if (now >= next) break;
      options_.clock->sleep_for(std::chrono::milliseconds(std::min<int64_t>(100, next - now)));
    }
    if (stopping()) return false;
  }
  return incremental_run();
}

bool PipeRunner::incremental_run() {
  if (!source_) source_ = make_source(source_peer_);
  if (!destination_) destination_ = make_destination(destination_peer_);
  Clock& clock = *options_.clock;
  const int64_t started_ms = to_epoch_ms(clock.now());

  json status = load_status(catalog_, pipe_.name);
  if (!status.contains("tables") || !status["tables"].is_object()) status["tables"] = json::object();
  auto save = [&] { catalog_.put_meta(pipe_.name, kIncrementalStatusMeta, status.dump()); };

  // 1. The run number = the version of the rows it writes, durable before any copy.
  // Without a stored number (a new pipe, or one recreated over existing tables) it
  // starts above every version already at the destination.
  uint64_t run = 0;
  if (auto stored = catalog_.get_meta(pipe_.name, kIncrementalRunMeta)) {
    run = std::stoull(*stored);
  } else {
    for (const auto& m : pipe_.tables) {
      DestinationTable dest = destination_table(pipe_, m);
      destination_->ensure_table(project_table(source_->describe(m.source), m), dest);  // exists: tells its layout
      run = std::max(run, destination_->max_version(dest));
    }
  }
  ++run;
  catalog_.put_meta(pipe_.name, kIncrementalRunMeta, std::to_string(run));
  status["run"] = run;
  status["phase"] = "probing";
  status["run_started_at_ms"] = started_ms;
  save();

  auto fail_run = [&](const std::string& why) {
    status["phase"] = "idle";
    status["last_run"] = {{"run", run},
                          {"started_at_ms", started_ms},
                          {"finished_at_ms", to_epoch_ms(clock.now())},
                          {"rows", 0},
                          {"result", why}};
    try {
      save();
    } catch (...) {
    }
  };

  struct Work {
    const TableMapping* mapping;
    TableSchema projected;
    std::optional<std::string> last;   // stored cursor
    std::optional<std::string> lower;  // last, else initial_value
    CursorProbe probe;
    bool copy = false;
  };
  std::vector<Work> work;
  int64_t total_rows = 0;
  try {
    // 2. Upper bounds first.
    for (const auto& m : pipe_.tables) {
      Work w;
      w.mapping = &m;
      w.projected = project_table(source_->describe(m.source), m);
      require_cursor(w.projected, m);  // the source schema may have changed since Setup
      w.last = catalog_.checkpoint(pipe_.name, m.source);
      w.lower = w.last ? w.last : m.initial_value;
      w.probe = source_->probe_cursor(w.projected, m.cursor, w.lower);
      bool backwards = w.last && w.probe.max && w.probe.below_last;
      bool dropped_all = w.last && !w.probe.max;  // every cursor value is gone (rows deleted or set to NULL)

      json& t = status["tables"][m.source];
      t["cursor_column"] = m.cursor;
      t["upper"] = w.probe.max ? json(*w.probe.max) : json();
      t["null_cursor_rows"] = w.probe.null_rows;
      t["cursor_went_backwards"] = backwards;
      json warnings = json::array();
      if (w.probe.null_rows > 0) {
        std::string msg = fmt::format("{} row(s) have a NULL cursor \"{}\" and are not copied", w.probe.null_rows,
                                      m.cursor);
        spdlog::warn("pipe {}: table {}: {}", pipe_.name, m.source, msg);
        warnings.push_back(msg);
      }
      if (backwards) {
        std::string msg = fmt::format(
            "cursor \"{}\" went backwards: the source's maximum {} is below the stored cursor {}; the stored cursor "
            "is kept, rows at or below it are not copied again",
            m.cursor, *w.probe.max, *w.last);
        spdlog::warn("pipe {}: table {}: {}", pipe_.name, m.source, msg);
        warnings.push_back(msg);
      }
      if (dropped_all) {
        std::string msg = fmt::format("cursor \"{}\" has no values any more (stored cursor {}); the stored cursor is "
                                      "kept",
                                      m.cursor, *w.last);
        spdlog::warn("pipe {}: table {}: {}", pipe_.name, m.source, msg);
        warnings.push_back(msg);
      }
      t["warnings"] = warnings;
      // Nothing to copy: an empty table, a bound that did not move, or one below the
      // lower bound (went back, or not yet above initial_value).
      w.copy = w.probe.max && !w.probe.below_last && !(w.lower && *w.lower == *w.probe.max);
      spdlog::info("pipe {}: run {}: table {}: cursor {} from {} to {}", pipe_.name, run, m.source, m.cursor,
                   w.lower ? *w.lower : "the start", w.probe.max ? *w.probe.max : "(no values)");
      work.push_back(std::move(w));
    }

    // 3. Let transactions that began before the bounds and commit late become visible.
    const int64_t copy_at = to_epoch_ms(clock.now()) + pipe_.settings.increment_delay.count();
    status["phase"] = "waiting";
    status["delay_until_ms"] = copy_at;
    save();
    for (int64_t now = to_epoch_ms(clock.now()); now < copy_at && !stopping(); now = to_epoch_ms(clock.now()))
      clock.sleep_for(std::chrono::milliseconds(std::min<int64_t>(100, copy_at - now)));
    if (stopping()) {
      fail_run("stopped before copying; the next run copies the same range");
      return false;
    }

    // 4. Copy; each table's cursor moves only after the destination accepted its rows.
    status["phase"] = "copying";
    save();
    for (auto& w : work) {
      const TableMapping& m = *w.mapping;
      int64_t rows = 0;
      if (w.copy) {
        auto t0 = std::chrono::steady_clock::now();
        auto stream = source_->read_range(w.projected, m.cursor, w.lower, *w.probe.max);
        rows = destination_->load_snapshot(w.projected, destination_table(pipe_, m), *stream, run);
        record_unrepresentable(catalog_, pipe_, destination_->take_unrepresentable());
        catalog_.commit_checkpoint(pipe_.name, m.source, *w.probe.max);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
        spdlog::info("pipe {}: run {}: table {}: {} rows copied in {} ms; cursor now {}", pipe_.name, run, m.source,
                     rows, ms, *w.probe.max);
      }
      total_rows += rows;
      json& t = status["tables"][m.source];
      t["rows_last_run"] = rows;
      t["rows_total"] = t.value("rows_total", int64_t(0)) + rows;
      save();
      for (auto ts : catalog_.tables(pipe_.name)) {
        if (ts.source != m.source) continue;
        ts.state = "loaded";
        ts.rows_loaded += rows;
        if (!ts.load_started_at_ms) ts.load_started_at_ms = started_ms;
        ts.load_finished_at_ms = to_epoch_ms(clock.now());
        catalog_.upsert_table(ts);
        if (options_.on_progress && rows > 0) options_.on_progress({ts.source, 1, 1, ts.rows_loaded});
      }
      if (stopping() && &w != &work.back()) {
        fail_run("stopped after some tables; the next run copies the rest");
        return false;
      }
    }
  } catch (const std::exception& e) {
    fail_run(std::string("failed: ") + e.what());
    throw;
  }

  const int64_t finished_ms = to_epoch_ms(clock.now());
  const int64_t next_ms = started_ms + pipe_.settings.schedule.count();
  status["phase"] = "idle";
  status.erase("delay_until_ms");
  status["next_run_at_ms"] = next_ms;
  status["last_run"] = {
      {"run", run}, {"started_at_ms", started_ms}, {"finished_at_ms", finished_ms}, {"rows", total_rows}, {"result", "ok"}};
  save();
  spdlog::info("pipe {}: run {} copied {} rows from {} tables in {} ms{}", pipe_.name, run, total_rows, work.size(),
               finished_ms - started_ms,
               options_.once ? std::string() : "; next run at " + format_time_utc(std::max(next_ms, finished_ms)));
  return true;
}

}  // namespace ferry
