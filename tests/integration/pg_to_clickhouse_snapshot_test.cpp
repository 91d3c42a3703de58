// Snapshot pipes from PostgreSQL into ClickHouse, against the real servers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "core/ident.h"
#include "pipe/runner.h"
#include "support.h"
#include "../shared/pipe_spec.h"

using namespace ferry;
using namespace ferry::test;

namespace {

PipeSpec snapshot_pipe(const std::vector<TableMapping>& tables, int parallelism = 2, int64_t rows_per_partition = 1000) {
  PipeSpec p = pipe_spec("snap", PipeMode::Snapshot, {});
  p.tables = tables;
  p.settings.snapshot_parallelism = parallelism;
  p.settings.snapshot_rows_per_partition = rows_per_partition;
  p.settings.max_retries = 0;
  return p;
}

PipeState run_pipe(Sandbox& sb, Catalog& catalog, const PipeSpec& pipe) {
  PipeRunner runner(catalog, pipe, sb.pg_peer(), sb.ch_peer());
  return runner.run();
}

}  // namespace

// Every supported type round-trips: for each column a PostgreSQL expression
// and a ClickHouse expression must render the same text for every row.
TEST(PgToClickHouseSnapshot, EveryTypeRoundTrips) {
  Sandbox sb("types");
  sb.pg_exec(R"SQL(
    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
    CREATE TABLE all_types (
      id integer PRIMARY KEY, c_small smallint, c_int integer, c_big bigint,
      c_num numeric(12,3), c_num_free numeric, c_real real, c_double double precision, c_bool boolean,
      c_text text, c_varchar varchar(40), c_char char(5), c_bytea bytea, c_date date, c_time time,
      c_ts timestamp, c_tstz timestamptz, c_interval interval, c_uuid uuid, c_json json, c_jsonb jsonb,
      c_int_arr integer[], c_text_arr text[], c_enum mood, c_inet inet,
      c_ints integer[] NOT NULL DEFAULT '{}', c_tags text[] NOT NULL DEFAULT '{}');
    INSERT INTO all_types VALUES
      (1, -32768, -2147483648, -9223372036854775808, -123456789.123, 3.14159265358979323846264338327950288,
       -1.5e-10, 2.718281828459045, true, 'plain', 'varchar', 'ab', '\x00ff10', '1999-12-31', '23:59:59.999999',
       '2024-02-29 12:34:56.789012', '2024-02-29 12:34:56.5+03', '1 year 2 mons 3 days 04:05:06.7', 
       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}', '{"b": {"c": null}}', '{1,NULL,-3}',
       '{"a b","c\"d",NULL,"e\\f", "tab\there"}', 'happy', '192.168.0.1/24', '{5,NULL,7}',
       '{"x y","q''t",NULL,"b\\s","",ü}'),
      (2, 32767, 2147483647, 9223372036854775807, 999999999.999, 1e-30, 'Infinity', '-Infinity', false,
       E'tab\there\nnewline\\backslash ''quote" ünïcødé 日本', 'x', 'abcde', '', '1970-01-01', '00:00:00',
       '1970-01-01 00:00:00', '2000-01-01 00:00:00+00', '-1 days', '00000000-0000-0000-0000-000000000000',
       '[]', '[]', '{}', '{}', 'sad', '::1', '{}', '{}'),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, DEFAULT, DEFAULT),
      (4, 0, 0, 0, 0, 'NaN', 'NaN', 0.1, true, '', ' ', ' ', E'\\x5c09', '2105-12-31', '12:00', '2030-06-15 01:02:03',
       '2030-06-15 01:02:03.000001-07', '0', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '"str"', '123', '{0}',
       '{""}', 'ok', '10.0.0.0/8', '{-1}', '{NULL}');
  )SQL");
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  ASSERT_EQ(run_pipe(sb, *catalog, snapshot_pipe({table_mapping("public.all_types")})), PipeState::Completed)
      << catalog->get_pipe("snap")->last_error;

  struct Check {
    const char* column;
    std::string pg;  // PostgreSQL expression rendering the expected text
    std::string ch;  // ClickHouse expression rendering the stored value
  };
  // The type's output function (format %s), which is what COPY renders; ::text differs for char and inet.
  auto same = [](const char* c) {
    return Check{c, fmt::format("CASE WHEN {0} IS NOT NULL THEN format('%s', {0}) END", c), fmt::format("toString({})", c)};
  };
  std::vector<Check> checks = {
      same("c_small"), same("c_int"), same("c_big"),
      {"c_num", "c_num::text", "toString(c_num)"},
      same("c_num_free"),
      {"c_real", "c_real::text", "toString(c_real)"},
      {"c_double", "c_double::text", "toString(c_double)"},
      {"c_bool", "CASE WHEN c_bool THEN '1' WHEN NOT c_bool THEN '0' END", "toString(c_bool)"},
      same("c_text"), same("c_varchar"), same("c_char"),
      {"c_bytea", "upper(encode(c_bytea, 'hex'))", "hex(c_bytea)"},
      // Days since the epoch: ClickHouse 18.16 prints day 0 as 0000-00-00.
      {"c_date", "(c_date - date '1970-01-01')::text", "toString(toInt32(c_date))"},
      same("c_time"), same("c_ts"), same("c_tstz"), same("c_interval"), same("c_uuid"),
      same("c_json"), same("c_jsonb"),
      // Nullable arrays have no exact ClickHouse type (no Nullable(Array)): stored as text.
      same("c_int_arr"), same("c_text_arr"),
      // NOT NULL arrays map to Array(Nullable(T)).
      {"c_ints", "array_to_string(c_ints, '|', 'NULL')",
       "arrayStringConcat(arrayMap(x -> ifNull(toString(x), 'NULL'), c_ints), '|')"},
      {"c_tags", "array_to_string(c_tags, '|', 'NULL')",
       "arrayStringConcat(arrayMap(x -> ifNull(toString(x), 'NULL'), c_tags), '|')"},
      same("c_enum"), same("c_inet"),
  };
  for (const auto& c : checks) {
    auto pg = sb.pg_rows(fmt::format("SELECT id::text, {} FROM all_types ORDER BY id", c.pg));
    auto ch = sb.ch_rows(fmt::format("SELECT toString(id), {} FROM {} FINAL ORDER BY id", c.ch, ch_table(sb, "all_types")));
    ASSERT_EQ(pg.size(), ch.size()) << c.column;
    for (size_t i = 0; i < pg.size(); ++i) {
      std::string expected = pg[i][1];
      // Floats: PostgreSQL spells infinities and NaN differently; compare the value, not the spelling.
      if (std::string(c.column) == "c_real" || std::string(c.column) == "c_double") {
        if (expected == "Infinity") expected = "inf";
        if (expected == "-Infinity") expected = "-inf";
        if (expected == "NaN") expected = "nan";
      }
      EXPECT_EQ(ch[i][1], expected) << "column " << c.column << " row id " << pg[i][0];
    }
  }
}

TEST(PgToClickHouseSnapshot, MillionRowsExactCountAndChecksum) {
  Sandbox sb("million");
  sb.pg_exec("CREATE TABLE big (id bigint PRIMARY KEY, s text, n integer, t timestamptz);"
             "INSERT INTO big SELECT g, md5(g::text) || CASE WHEN g % 100 = 0 THEN E'\\t\\n\\\\' ELSE '' END, "
             "(g::bigint * 7919) % 100000, timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second' "
             "FROM generate_series(1, 1000000) g; ANALYZE big;");
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  ASSERT_EQ(run_pipe(sb, *catalog, snapshot_pipe({table_mapping("public.big")}, 2, 100000)), PipeState::Completed)
      << catalog->get_pipe("snap")->last_error;
  EXPECT_EQ(sb.ch_value("SELECT count() FROM " + ch_table(sb, "big") + " FINAL WHERE _ferry_is_deleted = 0"), "1000000");
  // Content checksum over every row: sum of the first 32 bits of md5(id|s|n|t), computed on both sides.
  std::string pg_sum = sb.pg_value(
      "SELECT sum(('x' || substr(md5(id::text || '|' || s || '|' || n::text || '|' || t::text), 1, 8))::bit(32)::bigint) FROM big");
  std::string ch_sum = sb.ch_value(
      "SELECT sum(reinterpretAsUInt32(reverse(unhex(substring(lower(hex(MD5(concat(toString(id), '|', s, '|', toString(n), "
      "'|', toString(t))))), 1, 8))))) FROM " + ch_table(sb, "big") + " FINAL");
  EXPECT_EQ(pg_sum, ch_sum);
  auto tables = catalog->tables("snap");
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_EQ(tables[0].rows_loaded, 1000000);
  EXPECT_GT(tables[0].partitions_total, 5);
  EXPECT_EQ(tables[0].partitions_done, tables[0].partitions_total);
  EXPECT_EQ(tables[0].state, "loaded");
  std::vector<std::string> states;
  for (const auto& t : catalog->history("snap")) states.push_back(to_string(t.to));
  EXPECT_EQ(states, (std::vector<std::string>{"Provisioning", "Setup", "Snapshot", "Completed"}));
}

// kill -9 of `ferry run` in the middle of the load; the restart redoes only
// the partitions that were not recorded done and converges exactly.
TEST(PgToClickHouseSnapshot, KillNineMidLoadThenRestart) {
  Sandbox sb("kill");
  sb.pg_exec("CREATE TABLE k (id bigint PRIMARY KEY, payload text);"
             "INSERT INTO k SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 600000) g; ANALYZE k;");
  std::string config = sb.write_config(R"(
  snap:
    source: src
    destination: dst
    mode: snapshot
    tables: [ public.k ]
    settings: { snapshot_parallelism: 2, snapshot_rows_per_partition: 10000 }
)");
  std::string catalog_arg = "sqlite:" + sb.catalog_path();

  CutLoad cut;
  ASSERT_NO_FATAL_FAILURE(kill_nine_mid_load(config, catalog_arg, "snap", 5, cut));
  ASSERT_NO_FATAL_FAILURE(finish_cut_load(config, catalog_arg, cut));
  EXPECT_EQ(sb.ch_value("SELECT count() FROM " + ch_table(sb, "k") + " FINAL WHERE _ferry_is_deleted = 0"), "600000");
  EXPECT_EQ(sb.ch_value("SELECT sum(id) FROM " + ch_table(sb, "k") + " FINAL"), sb.pg_value("SELECT sum(id) FROM k"));
  auto catalog = open_catalog(catalog_arg);
  EXPECT_EQ(catalog->get_pipe("snap")->state, PipeState::Completed);
  EXPECT_EQ(catalog->tables("snap")[0].rows_loaded, 600000);
}

TEST(PgToClickHouseSnapshot, WeirdIdentifiers) {
  Sandbox sb("names");
  sb.pg_exec(R"SQL(
    CREATE SCHEMA "My Schema";
    CREATE TABLE "My Schema"."Tab ""le"" ñ" ("Id Key" integer PRIMARY KEY, "quo""te" text, "ÄÖÜ" text, "UPPER" int);
    INSERT INTO "My Schema"."Tab ""le"" ñ" SELECT g, 'q' || g, 'ü' || g, g * 2 FROM generate_series(1, 2500) g;
  )SQL");
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  ASSERT_EQ(run_pipe(sb, *catalog, snapshot_pipe({table_mapping("\"My Schema\".\"Tab \"\"le\"\" ñ\"")}, 2, 500)),
            PipeState::Completed)
      << catalog->get_pipe("snap")->last_error;
  std::string t = ch_table(sb, "Tab \"le\" ñ");
  EXPECT_EQ(sb.ch_value("SELECT count() FROM " + t + " FINAL"), "2500");
  auto ch = sb.ch_rows("SELECT `Id Key`, `quo\"te`, `ÄÖÜ`, `UPPER` FROM " + t + " FINAL ORDER BY `Id Key` LIMIT 3");
  auto pg = sb.pg_rows("SELECT \"Id Key\", \"quo\"\"te\", \"ÄÖÜ\", \"UPPER\" FROM \"My Schema\".\"Tab \"\"le\"\" ñ\" ORDER BY \"Id Key\" LIMIT 3");
  EXPECT_EQ(ch, pg);
}

TEST(PgToClickHouseSnapshot, MissingTableFailsClearly) {
  Sandbox sb("missing");
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  EXPECT_EQ(run_pipe(sb, *catalog, snapshot_pipe({table_mapping("public.nope")})), PipeState::Failed);
  auto rec = catalog->get_pipe("snap");
  EXPECT_NE(rec->last_error.find("public.nope"), std::string::npos) << rec->last_error;
  EXPECT_NE(rec->last_error.find("does not exist"), std::string::npos) << rec->last_error;
}

TEST(PgToClickHouseSnapshot, MissingSelectPrivilegeFailsClearly) {
  Sandbox sb("priv");
  std::string role = sb.name() + "_reader";
  sb.pg_exec("CREATE TABLE secret (id int PRIMARY KEY); INSERT INTO secret VALUES (1);");
  sb.pg_exec(fmt::format("DROP ROLE IF EXISTS {0}; CREATE ROLE {0} LOGIN", role));
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  PeerSpec src = sb.pg_peer();
  src.dsn += " user=" + role;
  PipeRunner runner(*catalog, snapshot_pipe({table_mapping("public.secret")}), src, sb.ch_peer());
  EXPECT_EQ(runner.run(), PipeState::Failed);
  auto rec = catalog->get_pipe("snap");
  EXPECT_NE(rec->last_error.find("SELECT"), std::string::npos) << rec->last_error;
  EXPECT_NE(rec->last_error.find("public.secret"), std::string::npos) << rec->last_error;
  EXPECT_NE(rec->last_error.find(role), std::string::npos) << rec->last_error;
  sb.pg_exec("DROP OWNED BY " + role + "; DROP ROLE " + role);
}

TEST(PgToClickHouseSnapshot, UnmappableTypeFailsAtSetup) {
  Sandbox sb("unmappable");
  sb.pg_exec("CREATE TYPE pair AS (a int, b text); CREATE TABLE odd (id int PRIMARY KEY, p pair);");
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  EXPECT_EQ(run_pipe(sb, *catalog, snapshot_pipe({table_mapping("public.odd")})), PipeState::Failed);
  auto rec = catalog->get_pipe("snap");
  EXPECT_NE(rec->last_error.find("public.odd"), std::string::npos) << rec->last_error;
  EXPECT_NE(rec->last_error.find("\"p\""), std::string::npos) << rec->last_error;
  EXPECT_NE(rec->last_error.find("pair"), std::string::npos) << rec->last_error;
  auto history = catalog->history("snap");
  ASSERT_GE(history.size(), 2u);
  EXPECT_EQ(history[history.size() - 2].to, PipeState::Setup);
  EXPECT_EQ(history.back().to, PipeState::Failed);
}

// A partitioned table has no ctid ranges of its own: it is split by key ranges.
TEST(PgToClickHouseSnapshot, PartitionedTableSplitsByKeyRanges) {
  Sandbox sb("keyranges");
  sb.pg_exec(R"SQL(
    CREATE TABLE events (id bigint PRIMARY KEY, v text) PARTITION BY RANGE (id);
    CREATE TABLE events_a PARTITION OF events FOR VALUES FROM (MINVALUE) TO (15000);
    CREATE TABLE events_b PARTITION OF events FOR VALUES FROM (15000) TO (MAXVALUE);
    INSERT INTO events SELECT g, 'v' || g FROM generate_series(-100, 29899) g;
    ANALYZE events_a; ANALYZE events_b;
  )SQL");
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  ASSERT_EQ(run_pipe(sb, *catalog, snapshot_pipe({table_mapping("public.events")}, 2, 5000)), PipeState::Completed)
      << catalog->get_pipe("snap")->last_error;
  auto parts = catalog->partitions("snap", "public.events");
  EXPECT_GE(parts.size(), 5u);
  EXPECT_EQ(parts.front().range.rfind("key::", 0), 0u) << parts.front().range;
  EXPECT_EQ(sb.ch_value("SELECT count() FROM " + ch_table(sb, "events") + " FINAL"), "30000");
  EXPECT_EQ(sb.ch_value("SELECT sum(id) FROM " + ch_table(sb, "events") + " FINAL"), sb.pg_value("SELECT sum(id) FROM events"));
}
