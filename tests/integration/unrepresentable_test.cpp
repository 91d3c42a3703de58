// Values a ClickHouse column type cannot hold (issue 12): the pre-check reports them,
// and loads follow on_unrepresentable (fail | text | null | clamp) or a column_types
// override, never silently; null/clamp values are counted per table and column.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "core/ident.h"
#include "pipe/precheck.h"
#include "pipe/runner.h"
#include "pipe/unrepresentable.h"
#include "cdc_support.h"
#include "support.h"

using namespace ferry;
using namespace ferry::test;

namespace {

// Sentinel and pre-1970 dates, a NaN numeric, out-of-range timestamps.
void create_sentinels(Sandbox& sb) {
  sb.pg_exec(
      "CREATE TABLE s (id int PRIMARY KEY, d date, ts timestamp, n numeric(10,2));"
      "INSERT INTO s VALUES (1, '0001-01-01', '0001-01-01 00:00:00', 'NaN'), (2, 'infinity', 'infinity', 1.5),"
      "(3, '-infinity', '-infinity', 2.25), (4, '1969-07-20', '1969-07-20 20:17:40.123456', 3),"
      "(5, '2024-05-01', '2024-05-01 12:00:00', 4), (6, NULL, NULL, NULL);");
}

PipeSpec snapshot_pipe(const std::string& name, OnUnrepresentable policy,
                       std::map<std::string, std::string> column_types = {}) {
  PipeSpec p = pg_to_ch_pipe(name, {"public.s"}, PipeMode::Snapshot);
  p.settings.on_unrepresentable = policy;
  p.tables[0].column_types = std::move(column_types);
  return p;
}

std::string ch_column(Sandbox& sb, const std::string& expr) {
  return sb.ch_value(fmt::format("SELECT groupArray(v) FROM (SELECT {} AS v FROM {}.s FINAL ORDER BY id)", expr,
                                 quote_backtick_ident(sb.name())));
}

std::string column_type(Sandbox& sb, const std::string& column) {
  return sb.ch_value(fmt::format("SELECT type FROM system.columns WHERE database = '{}' AND table = 's' AND name = '{}'",
                                 sb.name(), column));
}

const CheckResult* find_check(const PrecheckReport& r, const std::string& name) {
  for (const auto& c : r.checks)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace

// Default policy fail: the pre-check fails naming the column, its range and the fixes;
// a pipe run without it fails naming the column and value, and nothing is half-written
// silently.
TEST(Unrepresentable, FailIsCaughtByThePrecheckAndFailsThePipe) {
  Sandbox sb("unrfail");
  create_sentinels(sb);
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = snapshot_pipe("unr", OnUnrepresentable::Fail);
  PrecheckReport report = run_precheck(pipe, sb.pg_peer(), sb.ch_peer(), true);
  const CheckResult* d = find_check(report, "table public.s column d values");
  ASSERT_NE(d, nullptr) << report.to_text();
  EXPECT_EQ(d->status, CheckResult::Fail) << report.to_text();
  EXPECT_NE(d->reason.find("-infinity"), std::string::npos) << d->reason;
  EXPECT_NE(d->hint.find("column_types: {d: String}"), std::string::npos) << d->hint;
  const CheckResult* n = find_check(report, "table public.s column n values");
  ASSERT_NE(n, nullptr) << report.to_text();
  EXPECT_EQ(n->status, CheckResult::Fail) << report.to_text();
  EXPECT_FALSE(report.ok(true));

  PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer());
  EXPECT_EQ(runner.run(), PipeState::Failed);
  std::string error = catalog->get_pipe("unr")->last_error;
  EXPECT_NE(error.find("column d"), std::string::npos) << error;
}

// text: the narrower columns are created as String and hold the source's text exactly.
TEST(Unrepresentable, TextKeepsTheSourceRendering) {
  Sandbox sb("unrtext");
  create_sentinels(sb);
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = snapshot_pipe("unr", OnUnrepresentable::Text);
  EXPECT_TRUE(run_precheck(pipe, sb.pg_peer(), sb.ch_peer(), true).ok(true));
  PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer());
  ASSERT_EQ(runner.run(), PipeState::Completed) << catalog->get_pipe("unr")->last_error;
  EXPECT_EQ(column_type(sb, "d"), "Nullable(String)");
  EXPECT_EQ(ch_column(sb, "ifNull(d, 'NULL')"), "['0001-01-01','infinity','-infinity','1969-07-20','2024-05-01','NULL']");
  EXPECT_EQ(ch_column(sb, "ifNull(n, 'NULL')"), "['NaN','1.50','2.25','3.00','4.00','NULL']");
  EXPECT_TRUE(unrepresentable_tallies(*catalog, "unr").empty());
}

// column_types: String for the date and numeric columns keeps the source text; other
// columns keep their mapping.
TEST(Unrepresentable, ColumnTypesOverrideToString) {
  Sandbox sb("unrtypes");
  create_sentinels(sb);
  auto catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = snapshot_pipe("unr", OnUnrepresentable::Fail, {{"d", "String"}, {"n", "String"}});
  PrecheckReport report = run_precheck(pipe, sb.pg_peer(), sb.ch_peer(), true);
  EXPECT_TRUE(report.ok(true)) << report.to_text();
  PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer());
  ASSERT_EQ(runner.run(), PipeState::Completed) << catalog->get_pipe("unr")->last_error;
  EXPECT_EQ(column_type(sb, "d"), "Nullable(String)");
  EXPECT_EQ(sb.pg_rows("SELECT string_agg(coalesce(d::text, 'NULL'), ',' ORDER BY id) FROM s")[0][0],
            sb.ch_value(fmt::format("SELECT arrayStringConcat(groupArray(v), ',') FROM (SELECT ifNull(d, 'NULL') AS v "
                                    "FROM {}.s FINAL ORDER BY id)", quote_backtick_ident(sb.name()))));
  EXPECT_EQ(ch_column(sb, "ifNull(n, 'NULL')"), "['NaN','1.50','2.25','3.00','4.00','NULL']");
}

// null: values the type cannot hold are NULL, counted per column with the first one;
// clamp: the type's first or last day. Both are warnings in the pre-check.
TEST(Unrepresentable, NullAndClampAreCountedAndVisible) {
  for (auto policy : {OnUnrepresentable::Null, OnUnrepresentable::Clamp}) {
    SCOPED_TRACE(to_string(policy));
    Sandbox sb(std::string("unr") + to_string(policy));
    create_sentinels(sb);
    auto catalog = open_catalog(sb.catalog_path());
    PipeSpec pipe = snapshot_pipe("unr", policy);
    PrecheckReport report = run_precheck(pipe, sb.pg_peer(), sb.ch_peer(), true);
    const CheckResult* d = find_check(report, "table public.s column d values");
    ASSERT_NE(d, nullptr) << report.to_text();
    EXPECT_EQ(d->status, CheckResult::Warn) << report.to_text();
    PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer());
    ASSERT_EQ(runner.run(), PipeState::Completed) << catalog->get_pipe("unr")->last_error;
    bool has_date32 = column_type(sb, "d").find("Date32") != std::string::npos;
    UnrepresentableTallies tallies = unrepresentable_tallies(*catalog, "unr");
    // Date (18.16): 0001-01-01, infinity, -infinity and 1969-07-20; Date32 holds 1969 and (from 1900) not year 1.
    EXPECT_EQ(tallies["public.s"]["d"].count, has_date32 ? 3 : 4);
    EXPECT_EQ(tallies["public.s"]["d"].first_value, "0001-01-01");
    EXPECT_EQ(tallies["public.s"]["n"].count, 1);
    EXPECT_EQ(tallies["public.s"]["n"].first_value, "NaN");
    std::string dates = ch_column(sb, "ifNull(toString(d), 'NULL')");
    std::string numbers = ch_column(sb, "ifNull(toString(n), 'NULL')");
    EXPECT_EQ(numbers, "['NULL','1.50','2.25','3.00','4.00','NULL']");  // NaN has no nearest value: NULL
    if (has_date32) continue;  // the exact renderings below are those of the plain Date
    if (policy == OnUnrepresentable::Null)
      EXPECT_EQ(dates, "['NULL','NULL','NULL','NULL','2024-05-01','NULL']");
    else  // days since 1970-01-01 (18.16 renders day 0 as 0000-00-00): the first day, 2105-12-31, ...
      EXPECT_EQ(ch_column(sb, "ifNull(toString(toUInt16(d)), 'NULL')"), "['0','49672','0','0','19844','NULL']");
  }
}
