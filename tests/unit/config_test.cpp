// Config loading and validation (DESIGN.md section 7): every kind of bad
// config has its own test and its own message naming the file, the key path
// and what was expected.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "core/error.h"
#include "pipe/config.h"
#include "pipe/spec_json.h"
#include "../shared/pipe_spec.h"

using namespace ferry;

namespace {

const std::string kFile = "ferry-test.yaml";
const std::string kSecret = "s3cr3t-P@ss w0rd!";

EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

EnvLookup test_env() { return fake_env({{"SHOP_PG_PASSWORD", kSecret}, {"CH_PASSWORD", kSecret}}); }

ConfigCheck check(const std::string& yaml) { return check_config(yaml, kFile, test_env()); }

// Peers usable by the pipe tests.
const std::string kPeers = R"(peers:
  pg:   { type: postgres, dsn: "host=localhost dbname=shop", password_env: SHOP_PG_PASSWORD }
  pg2:  { type: postgres, dsn: "host=otherhost dbname=shop" }
  my:   { type: mysql, host: localhost, port: 3306, database: shop, user: ferry }
  ch:   { type: clickhouse, url: "http://127.0.0.1:8123", database: analytics }
  lite: { type: sqlite, path: /tmp/ferry-test.db }
)";

// A config with the peers above and one pipe "p" whose body is `body` (indented 4).
std::string with_pipe(const std::string& body) { return kPeers + "pipes:\n  p:\n" + body; }

// A valid pipe body, to be varied.
const std::string kPipeBody = R"(    source: pg
    destination: ch
    mode: snapshot+cdc
    tables:
      - public.orders
)";

std::string all_messages(const ConfigCheck& r) { return format_problems(r.problems); }

// There is a problem at `path` whose line names the file, the path, `what`,
// and "expected <expected>".
::testing::AssertionResult HasProblem(const ConfigCheck& r, const std::string& path, const std::string& what,
                                      const std::string& expected, bool needs_line = true) {
  for (const auto& p : r.problems) {
    if (p.path != path) continue;
    std::string line = p.to_string();
    if (line.find(kFile) == std::string::npos && line.find(p.file) == std::string::npos)
      return ::testing::AssertionFailure() << "no file name in: " << line;
    if (line.find(path + ": ") == std::string::npos)
      return ::testing::AssertionFailure() << "no key path in: " << line;
    if (line.find(what) == std::string::npos) continue;
    if (line.find("; expected " ) == std::string::npos || line.find(expected) == std::string::npos)
      return ::testing::AssertionFailure() << "expectation '" << expected << "' missing in: " << line;
    if (needs_line && p.line <= 0) return ::testing::AssertionFailure() << "no line number in: " << line;
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no problem at '" << path << "' mentioning '" << what
                                       << "'. Problems:\n"
                                       << all_messages(r);
}

std::string fixture(const std::string& name) { return std::string(FERRY_FIXTURES_DIR) + "/config/" + name; }

}  // namespace

// ===========================================================================
// Valid configs

TEST(Config, DesignExampleParses) {
  Config c = load_config_file(fixture("design_example.yaml"), test_env());
  EXPECT_EQ(c.file, fixture("design_example.yaml"));
  ASSERT_EQ(c.peers.size(), 2u);

  const PeerSpec& pg = c.peers.at("shop_pg");
  EXPECT_EQ(pg.name, "shop_pg");
  EXPECT_EQ(pg.type, PeerType::Postgres);
  EXPECT_EQ(pg.dsn, "host=127.0.0.1 port=5432 dbname=shop user=ferry");
  EXPECT_EQ(pg.password_env, "SHOP_PG_PASSWORD");
  EXPECT_EQ(pg.password, kSecret);

  const PeerSpec& lake = c.peers.at("lake");
  EXPECT_EQ(lake.type, PeerType::ClickHouse);
  EXPECT_EQ(lake.url, "http://127.0.0.1:8123");
  EXPECT_EQ(lake.database, "analytics");
  EXPECT_EQ(lake.user, "default");
  EXPECT_EQ(lake.password, "");

  ASSERT_EQ(c.pipe_order, std::vector<std::string>{"shop_to_lake"});
  const PipeSpec& p = c.pipes.at("shop_to_lake");
  EXPECT_EQ(p.name, "shop_to_lake");
  EXPECT_EQ(p.source, "shop_pg");
  EXPECT_EQ(p.destination, "lake");
  EXPECT_EQ(p.mode, PipeMode::SnapshotCdc);
  ASSERT_EQ(p.tables.size(), 2u);
  EXPECT_EQ(p.tables[0].source, "public.orders");
  EXPECT_EQ(p.tables[0].destination, "orders");
  EXPECT_EQ(p.tables[0].order_by, std::vector<std::string>{"customer_id"});
  EXPECT_EQ(p.tables[0].exclude_columns, std::vector<std::string>{"card_number"});
  EXPECT_EQ(p.tables[0].cursor, "");
  EXPECT_FALSE(p.tables[0].initial_value);
  EXPECT_EQ(p.tables[1].source, "public.customers");
  EXPECT_EQ(p.tables[1].destination, "customers_v2");
  EXPECT_EQ(p.settings.batch_size, 100000);
  EXPECT_EQ(p.settings.sync_interval, Millis(1000));
  EXPECT_EQ(p.settings.snapshot_parallelism, 4);
  EXPECT_EQ(p.settings.snapshot_rows_per_partition, 250000);
  EXPECT_EQ(p.settings.increment_delay, Millis(15000));
  EXPECT_EQ(p.settings.schedule, Millis(300000));
  // not given: defaults
  EXPECT_EQ(p.settings.max_retries, PipeSettings{}.max_retries);
  EXPECT_EQ(p.settings.retry_backoff_max, PipeSettings{}.retry_backoff_max);
}

TEST(Config, DefaultsAndPlainStringTables) {
  Config c = parse_config(with_pipe(R"(    source: pg
    destination: my
    mode: snapshot
    tables:
      - public.orders
      - '"Sales"."Big Orders"'
      - { source: inventory }
)"),
                          kFile, test_env());
  const PipeSpec& p = c.pipes.at("p");
  ASSERT_EQ(p.tables.size(), 3u);
  EXPECT_EQ(p.tables[0].destination, "orders");
  EXPECT_EQ(p.tables[1].source, "\"Sales\".\"Big Orders\"");
  EXPECT_EQ(p.tables[1].destination, "Big Orders");
  EXPECT_EQ(p.tables[2].destination, "inventory");
  PipeSettings d;
  EXPECT_EQ(p.settings.batch_size, d.batch_size);
  EXPECT_EQ(p.settings.sync_interval, d.sync_interval);
  EXPECT_EQ(p.settings.snapshot_parallelism, d.snapshot_parallelism);
  EXPECT_EQ(p.settings.snapshot_rows_per_partition, d.snapshot_rows_per_partition);
  EXPECT_EQ(p.settings.increment_delay, d.increment_delay);
  EXPECT_EQ(p.settings.schedule, d.schedule);
  EXPECT_EQ(p.settings.max_retries, d.max_retries);
  EXPECT_EQ(p.settings.retry_backoff_max, d.retry_backoff_max);
}

TEST(Config, AllSettingsKeys) {
  Config c = parse_config(with_pipe(R"(    source: my
    destination: ch
    mode: incremental
    tables:
      - { source: shop.orders, cursor: updated_at, initial_value: "2024-01-01" }
    settings:
      batch_size: 5000
      sync_interval: 500ms
      snapshot_parallelism: 64
      snapshot_rows_per_partition: 10
      increment_delay: 0s
      schedule: 1h30m
      max_retries: 0
      retry_backoff_max: 2m
)"),
                          kFile, test_env());
  const PipeSpec& p = c.pipes.at("p");
  EXPECT_EQ(p.mode, PipeMode::Incremental);
  EXPECT_EQ(p.tables[0].cursor, "updated_at");
  EXPECT_EQ(p.tables[0].initial_value, std::optional<std::string>("2024-01-01"));
  EXPECT_EQ(p.tables[0].destination, "orders");
  EXPECT_EQ(p.settings.batch_size, 5000);
  EXPECT_EQ(p.settings.sync_interval, Millis(500));
  EXPECT_EQ(p.settings.snapshot_parallelism, 64);
  EXPECT_EQ(p.settings.snapshot_rows_per_partition, 10);
  EXPECT_EQ(p.settings.increment_delay, Millis(0));
  EXPECT_EQ(p.settings.schedule, Millis(5400000));
  EXPECT_EQ(p.settings.max_retries, 0);
  EXPECT_EQ(p.settings.retry_backoff_max, Millis(120000));
}

TEST(Config, MysqlPeerAsDsnOrHost) {
  Config c = parse_config(R"(peers:
  a: { type: mysql, dsn: "mysql://repl@db.example.com:3307/shop" }
  b: { type: mysql, host: 10.0.0.5, database: shop, user: ferry, password_env: SHOP_PG_PASSWORD }
  c: { type: mariadb, dsn: "mysql://db2" }
)",
                          kFile, test_env());
  const PeerSpec& a = c.peers.at("a");
  EXPECT_EQ(a.type, PeerType::MySQL);
  EXPECT_EQ(a.host, "db.example.com");
  EXPECT_EQ(a.port, 3307);
  EXPECT_EQ(a.database, "shop");
  EXPECT_EQ(a.user, "repl");
  const PeerSpec& b = c.peers.at("b");
  EXPECT_EQ(b.host, "10.0.0.5");
  EXPECT_EQ(b.port, 3306);
  EXPECT_EQ(b.database, "shop");
  EXPECT_EQ(b.user, "ferry");
  EXPECT_EQ(b.password, kSecret);
  const PeerSpec& cc = c.peers.at("c");
  EXPECT_EQ(cc.host, "db2");
  EXPECT_EQ(cc.port, 3306);
  EXPECT_EQ(cc.database, "");
  EXPECT_EQ(cc.user, "");
}

TEST(Config, SqlitePeerAsDsnOrPath) {
  Config c = parse_config(R"(peers:
  a: { type: sqlite, dsn: /data/a.db }
  b: { type: sqlite, path: /data/b.db }
)",
                          kFile, test_env());
  EXPECT_EQ(c.peers.at("a").dsn, "/data/a.db");
  EXPECT_EQ(c.peers.at("b").dsn, "/data/b.db");
}

TEST(Config, PipesKeepDeclarationOrder) {
  Config c = parse_config(kPeers + R"(pipes:
  zeta:  { source: pg, destination: ch, mode: snapshot, tables: [a.t] }
  alpha: { source: my, destination: ch, mode: cdc, tables: [shop.t] }
  mid:   { source: lite, destination: pg, mode: snapshot, tables: [t] }
)",
                          kFile, test_env());
  EXPECT_EQ(c.pipe_order, (std::vector<std::string>{"zeta", "alpha", "mid"}));
}

TEST(Config, EmptyEnvLookupSkipsSecretResolution) {
  auto r = check_config(kPeers, kFile, EnvLookup{});
  ASSERT_TRUE(r.ok()) << all_messages(r);
  EXPECT_EQ(r.config.peers.at("pg").password_env, "SHOP_PG_PASSWORD");
  EXPECT_EQ(r.config.peers.at("pg").password, "");
}

TEST(Config, JsonTextIsYamlToo) {
  Config c = parse_config(R"({"peers": {"a": {"type": "postgres", "dsn": "host=x"},
                                         "b": {"type": "clickhouse", "url": "http://x:8123"}},
                              "pipes": {"p": {"source": "a", "destination": "b", "mode": "cdc",
                                              "tables": ["public.t"]}}})",
                          kFile, test_env());
  EXPECT_EQ(c.pipes.at("p").mode, PipeMode::Cdc);
}

// ===========================================================================
// Bad configs: one test per kind

TEST(ConfigErrors, FileMissing) {
  std::string path = "/nonexistent/dir/ferry.yaml";
  auto r = check_config_file(path, test_env());
  ASSERT_EQ(r.problems.size(), 1u);
  std::string m = r.problems[0].to_string();
  EXPECT_NE(m.find(path), std::string::npos) << m;
  EXPECT_NE(m.find("does not exist"), std::string::npos) << m;
  EXPECT_NE(m.find("expected a readable YAML config file"), std::string::npos) << m;
  try {
    load_config_file(path, test_env());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
}

TEST(ConfigErrors, FileIsADirectory) {
  std::string path = fixture("");
  auto r = check_config_file(path, test_env());
  ASSERT_EQ(r.problems.size(), 1u);
  std::string m = r.problems[0].to_string();
  EXPECT_NE(m.find("is a directory"), std::string::npos) << m;
  EXPECT_NE(m.find("expected a readable YAML config file"), std::string::npos) << m;
}

TEST(ConfigErrors, YamlSyntaxErrorHasLine) {
  auto r = check("peers:\n  pg: { type: postgres, dsn: x\npipes: {}\n");
  ASSERT_EQ(r.problems.size(), 1u);
  const auto& p = r.problems[0];
  EXPECT_GE(p.line, 2);
  std::string m = p.to_string();
  EXPECT_NE(m.find(kFile + ":" + std::to_string(p.line) + ": "), std::string::npos) << m;
  EXPECT_NE(m.find("YAML syntax error"), std::string::npos) << m;
  EXPECT_NE(m.find("expected valid YAML"), std::string::npos) << m;
}

TEST(ConfigErrors, TopLevelNotAMap) {
  auto r = check("- peers\n- pipes\n");
  ASSERT_EQ(r.problems.size(), 1u);
  std::string m = r.problems[0].to_string();
  EXPECT_NE(m.find(kFile + ":1: "), std::string::npos) << m;
  EXPECT_NE(m.find("the top level is a list"), std::string::npos) << m;
  EXPECT_NE(m.find("expected a map with the keys peers and pipes"), std::string::npos) << m;

  auto scalar = check("just text\n");
  ASSERT_EQ(scalar.problems.size(), 1u);
  EXPECT_NE(scalar.problems[0].to_string().find("the top level is 'just text'"), std::string::npos);
}

TEST(ConfigErrors, EmptyFile) {
  auto r = check("# nothing here\n");
  ASSERT_EQ(r.problems.size(), 1u);
  std::string m = r.problems[0].to_string();
  EXPECT_NE(m.find(kFile), std::string::npos);
  EXPECT_NE(m.find("the file is empty; expected a map with the keys peers and pipes"), std::string::npos) << m;
}

TEST(ConfigErrors, UnknownTopLevelKey) {
  auto r = check(kPeers + "pipe:\n  p: {}\n");
  EXPECT_TRUE(HasProblem(r, "pipe", "unknown key 'pipe' in the top level (did you mean 'pipes'?)",
                         "one of: peers, pipes"));
  EXPECT_EQ(r.problems[0].line, 7);
}

TEST(ConfigErrors, UnknownPeerKeyWithSuggestion) {
  auto r = check("peers:\n  pg: { type: postgres, dns: \"host=x\" }\n");
  EXPECT_TRUE(HasProblem(r, "peers.pg.dns", "unknown key 'dns' in a peer (did you mean 'dsn'?)", "one of: type, dsn"));
  EXPECT_EQ(r.problems.front().line, 2);
}

TEST(ConfigErrors, UnknownPipeKey) {
  auto r = check(with_pipe(kPipeBody + "    destinaton_db: x\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.destinaton_db", "unknown key 'destinaton_db' in a pipe",
                         "one of: source, destination, mode, tables, settings"));
}

TEST(ConfigErrors, UnknownTableKey) {
  auto r = check(with_pipe(R"(    source: pg
    destination: ch
    mode: snapshot
    tables:
      - public.orders
      - { source: public.items, order: [id] }
)"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[1].order", "unknown key 'order' in a table",
                         "one of: source, destination, order_by, exclude_columns, cursor, initial_value"));
}

TEST(ConfigErrors, UnknownSettingsKeyWithSuggestion) {
  auto r = check(with_pipe(kPipeBody + "    settings:\n      sync_intervall: 1s\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.settings.sync_intervall",
                         "unknown key 'sync_intervall' in settings (did you mean 'sync_interval'?)",
                         "one of: batch_size, sync_interval"));
}

TEST(ConfigErrors, BatchSizeNotAnInteger) {
  auto r = check(with_pipe(kPipeBody + "    settings:\n      batch_size: \"abc\"\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.settings.batch_size", "'abc' is not an integer", "a positive integer"));
  auto r2 = check(with_pipe(kPipeBody + "    settings:\n      batch_size: 1.5\n"));
  EXPECT_TRUE(HasProblem(r2, "pipes.p.settings.batch_size", "'1.5' is not an integer", "a positive integer"));
  auto r3 = check(with_pipe(kPipeBody + "    settings:\n      batch_size: [1]\n"));
  EXPECT_TRUE(HasProblem(r3, "pipes.p.settings.batch_size", "is a list", "a positive integer"));
}

TEST(ConfigErrors, TablesNotAList) {
  auto r = check(with_pipe("    source: pg\n    destination: ch\n    mode: snapshot\n    tables: public.orders\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables", "tables is 'public.orders', not a list", "a list of tables"));
  auto r2 = check(with_pipe("    source: pg\n    destination: ch\n    mode: snapshot\n    tables: { a: b }\n"));
  EXPECT_TRUE(HasProblem(r2, "pipes.p.tables", "tables is a map, not a list", "a list of tables"));
}

TEST(ConfigErrors, TableEntryNotStringOrMap) {
  auto r = check(with_pipe("    source: pg\n    destination: ch\n    mode: snapshot\n    tables:\n      - [a, b]\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[0]", "table is a list", "a table name like public.orders, or a map"));
}

TEST(ConfigErrors, OrderByNotAListOfStrings) {
  auto r = check(with_pipe(R"(    source: pg
    destination: ch
    mode: snapshot
    tables:
      - { source: public.a, order_by: customer_id }
      - { source: public.b, order_by: [id, { x: 1 }] }
      - { source: public.c, exclude_columns: 5x }
)"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[0].order_by", "is 'customer_id', not a list", "a list of column names"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[1].order_by[1]", "is a map", "a list of column names"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[2].exclude_columns", "is '5x', not a list", "a list of column names"));
}

TEST(ConfigErrors, PortNotAnInteger) {
  auto r = check("peers:\n  m: { type: mysql, host: h, port: three }\n  n: { type: mysql, host: h, port: 70000 }\n");
  EXPECT_TRUE(HasProblem(r, "peers.m.port", "'three' is not an integer", "an integer port from 1 to 65535"));
  EXPECT_TRUE(HasProblem(r, "peers.n.port", "port 70000 is out of range", "an integer port from 1 to 65535"));
}

TEST(ConfigErrors, MissingPeerType) {
  auto r = check("peers:\n  pg: { dsn: \"host=x\" }\n");
  EXPECT_TRUE(HasProblem(r, "peers.pg.type", "missing required key 'type'", "one of: postgres, mysql, clickhouse, sqlite"));
}

TEST(ConfigErrors, PeerNotAMap) {
  auto r = check("peers:\n  pg: postgres\n");
  EXPECT_TRUE(HasProblem(r, "peers.pg", "peer is 'postgres'", "a map with keys type, dsn"));
}

TEST(ConfigErrors, MissingPostgresDsn) {
  auto r = check("peers:\n  pg: { type: postgres, user: u }\n");
  EXPECT_TRUE(HasProblem(r, "peers.pg.dsn", "missing required key 'dsn'", "a libpq connection string"));
}

TEST(ConfigErrors, MissingClickhouseUrl) {
  auto r = check("peers:\n  ch: { type: clickhouse, database: analytics }\n");
  EXPECT_TRUE(HasProblem(r, "peers.ch.url", "missing required key 'url'", "an HTTP URL like \"http://127.0.0.1:8123\""));
}

TEST(ConfigErrors, ClickhouseUrlNotHttp) {
  auto r = check("peers:\n  ch: { type: clickhouse, url: \"tcp://127.0.0.1:9000\" }\n");
  EXPECT_TRUE(HasProblem(r, "peers.ch.url", "does not start with http:// or https://", "an HTTP URL"));
}

TEST(ConfigErrors, MissingMysqlHost) {
  auto r = check("peers:\n  my: { type: mysql, database: shop }\n");
  EXPECT_TRUE(HasProblem(r, "peers.my.host", "missing required key 'host'",
                         "either dsn: \"mysql://user@host:port/database\" or host"));
}

TEST(ConfigErrors, BadMysqlDsn) {
  auto r = check(R"(peers:
  a: { type: mysql, dsn: "postgres://x/y" }
  b: { type: mysql, dsn: "mysql://u@h:port/db" }
  c: { type: mysql, dsn: "mysql://u@h/db", host: h }
  d: { type: mysql, dsn: "mysql://@:3306/db" }
)");
  EXPECT_TRUE(HasProblem(r, "peers.a.dsn", "does not start with mysql://", "a URL like \"mysql://user@host:3306/database\""));
  EXPECT_TRUE(HasProblem(r, "peers.b.dsn", "port that is not an integer", "a URL like"));
  EXPECT_TRUE(HasProblem(r, "peers.c.host", "is given together with dsn", "either dsn"));
  EXPECT_TRUE(HasProblem(r, "peers.d.dsn", "has no host", "a URL like"));
}

TEST(ConfigErrors, MissingSqlitePath) {
  auto r = check("peers:\n  lite: { type: sqlite }\n  both: { type: sqlite, dsn: a.db, path: b.db }\n");
  EXPECT_TRUE(HasProblem(r, "peers.lite.dsn", "missing required key 'dsn'", "the path of the SQLite database file"));
  EXPECT_TRUE(HasProblem(r, "peers.both.path", "both dsn and path are given", "only one of dsn or path"));
}

TEST(ConfigErrors, KeyThatDoesNotApplyToPeerType) {
  auto r = check("peers:\n  pg: { type: postgres, dsn: \"host=x\", url: \"http://x\" }\n"
                 "  lite: { type: sqlite, path: a.db, password_env: X }\n");
  EXPECT_TRUE(HasProblem(r, "peers.pg.url", "key 'url' does not apply to a postgres peer",
                         "only: type, dsn, schema, user, password_env"));
  EXPECT_TRUE(HasProblem(r, "peers.lite.password_env", "does not apply to a sqlite peer", "only: type, dsn, path"));
}

TEST(ConfigErrors, UnknownPeerType) {
  auto r = check("peers:\n  m: { type: mongo, dsn: x }\n  c: { type: clickhose, url: \"http://x\" }\n");
  EXPECT_TRUE(HasProblem(r, "peers.m.type", "unknown peer type 'mongo'", "one of: postgres, mysql, clickhouse, sqlite"));
  EXPECT_TRUE(HasProblem(r, "peers.c.type", "unknown peer type 'clickhose' (did you mean 'clickhouse'?)",
                         "one of: postgres"));
}

TEST(ConfigErrors, UnknownMode) {
  auto r = check(with_pipe("    source: pg\n    destination: ch\n    mode: snapshot_cdc\n    tables: [public.t]\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.mode", "unknown mode 'snapshot_cdc' (did you mean 'snapshot+cdc'?)",
                         "one of: snapshot, cdc, snapshot+cdc, incremental"));
  // no follow-on problems from a mode that was not understood
  EXPECT_EQ(r.problems.size(), 1u) << all_messages(r);
}

TEST(ConfigErrors, MissingPipeKeys) {
  auto r = check(with_pipe("    settings: {}\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.source", "missing required key 'source'", "the name of a peer defined under peers"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.destination", "missing required key 'destination'", "the name of a peer"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.mode", "missing required key 'mode'", "one of: snapshot, cdc"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables", "missing required key 'tables'", "a list of tables"));
  EXPECT_EQ(r.problems.size(), 4u) << all_messages(r);
}

TEST(ConfigErrors, MissingTableSource) {
  auto r = check(with_pipe("    source: pg\n    destination: ch\n    mode: snapshot\n    tables:\n"
                           "      - { destination: orders }\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[0].source", "missing required key 'source'", "a source table name"));
}

TEST(ConfigErrors, EmptyTableSource) {
  auto r = check(with_pipe("    source: pg\n    destination: ch\n    mode: snapshot\n    tables:\n"
                           "      - \"\"\n      - { source: \"\" }\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[0].source", "table source is an empty string", "a source table name"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[1].source", "is an empty string", "a source table name"));
}

TEST(ConfigErrors, EmptyTableList) {
  auto r = check(with_pipe("    source: pg\n    destination: ch\n    mode: snapshot\n    tables: []\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables", "no tables are listed", "a list with at least one table"));
}

TEST(ConfigErrors, UnknownSourcePeerListsKnownPeers) {
  auto r = check(with_pipe("    source: pgg\n    destination: ch\n    mode: snapshot\n    tables: [public.t]\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.source", "unknown peer 'pgg' (did you mean 'pg'?)",
                         "one of the peers defined under peers: ch, lite, my, pg, pg2"));
}

TEST(ConfigErrors, UnknownDestinationPeer) {
  auto r = check(with_pipe("    source: pg\n    destination: warehouse\n    mode: snapshot\n    tables: [public.t]\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.destination", "unknown peer 'warehouse'", "one of the peers defined under peers"));
  auto none = check("pipes:\n  p: { source: a, destination: b, mode: snapshot, tables: [t] }\n");
  EXPECT_TRUE(HasProblem(none, "pipes.p.source", "unknown peer 'a'", "a peer defined under peers (none are defined)"));
}

TEST(ConfigErrors, BadDurations) {
  for (const std::string key : {"sync_interval", "increment_delay", "schedule", "retry_backoff_max"}) {
    SCOPED_TRACE(key);
    std::string path = "pipes.p.settings." + key;
    auto r1 = check(with_pipe(kPipeBody + "    settings:\n      " + key + ": 10 seconds\n"));
    EXPECT_TRUE(HasProblem(r1, path, "'10 seconds' is not a duration", "a duration like 500ms, 15s, 5m or 1h30m"));
    auto r2 = check(with_pipe(kPipeBody + "    settings:\n      " + key + ": -5s\n"));
    EXPECT_TRUE(HasProblem(r2, path, "'-5s' is negative", "a non-negative duration like"));
    auto r3 = check(with_pipe(kPipeBody + "    settings:\n      " + key + ": \"\"\n"));
    EXPECT_TRUE(HasProblem(r3, path, "is an empty string", "a duration like"));
    auto r4 = check(with_pipe(kPipeBody + "    settings:\n      " + key + ": 30\n"));
    EXPECT_TRUE(HasProblem(r4, path, "'30' is not a duration (no unit)", "a duration like"));
  }
}

TEST(ConfigErrors, ZeroDurations) {
  auto r = check(with_pipe(kPipeBody + "    settings: { sync_interval: 0s, schedule: 0m, retry_backoff_max: 0ms, "
                                       "increment_delay: 0s }\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.settings.sync_interval", "sync_interval is zero", "a duration greater than zero"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.settings.schedule", "schedule is zero", "a duration greater than zero"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.settings.retry_backoff_max", "is zero", "a duration greater than zero"));
  EXPECT_EQ(r.problems.size(), 3u) << all_messages(r);  // increment_delay 0 is fine
}

TEST(ConfigErrors, NonPositiveCounts) {
  auto r = check(with_pipe(kPipeBody + R"(    settings:
      batch_size: 0
      snapshot_parallelism: 0
      snapshot_rows_per_partition: -1
      max_retries: -2
)"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.settings.batch_size", "batch_size is 0", "a positive integer"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.settings.snapshot_parallelism", "snapshot_parallelism is 0",
                         "an integer from 1 to 64"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.settings.snapshot_rows_per_partition", "is -1", "a positive integer"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.settings.max_retries", "max_retries is -2", "a non-negative integer"));
}

TEST(ConfigErrors, ParallelismAbove64) {
  auto r = check(with_pipe(kPipeBody + "    settings: { snapshot_parallelism: 65 }\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.settings.snapshot_parallelism", "snapshot_parallelism is 65",
                         "an integer from 1 to 64"));
  auto big = check(with_pipe(kPipeBody + "    settings: { snapshot_parallelism: 99999999999 }\n"));
  EXPECT_TRUE(HasProblem(big, "pipes.p.settings.snapshot_parallelism", "is out of range", "an integer from 1 to 64"));
}

TEST(ConfigErrors, DuplicatePipeNames) {
  auto r = check(kPeers + R"(pipes:
  p: { source: pg, destination: ch, mode: snapshot, tables: [public.a] }
  p: { source: my, destination: ch, mode: snapshot, tables: [shop.a] }
)");
  EXPECT_TRUE(HasProblem(r, "pipes.p", "duplicate pipe name 'p' (first given at line 8)", "each pipe name to appear once"));
  EXPECT_EQ(r.problems[0].line, 9);
  EXPECT_EQ(r.config.pipes.at("p").source, "pg");  // the first one is kept
}

TEST(ConfigErrors, DuplicatePeerNames) {
  auto r = check("peers:\n  pg: { type: postgres, dsn: a }\n  ch: { type: clickhouse, url: \"http://x\" }\n"
                 "  pg: { type: postgres, dsn: b }\n");
  EXPECT_TRUE(HasProblem(r, "peers.pg", "duplicate peer name 'pg' (first given at line 2)", "each peer name to appear once"));
  EXPECT_EQ(r.problems[0].line, 4);
}

TEST(ConfigErrors, DuplicateKeyInsideAMap) {
  auto r = check("peers:\n  pg:\n    type: postgres\n    dsn: a\n    dsn: b\n");
  EXPECT_TRUE(HasProblem(r, "peers.pg.dsn", "duplicate key 'dsn' (first given at line 4)", "each key to appear once"));
}

TEST(ConfigErrors, DuplicateDestinationTable) {
  auto r = check(with_pipe(R"(    source: pg
    destination: ch
    mode: snapshot
    tables:
      - public.orders
      - sales.orders
)"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[1].destination",
                         "destination table 'orders' is also the destination of tables[0] ('public.orders')",
                         "each table to have its own destination"));
}

TEST(ConfigErrors, DuplicateSourceTable) {
  auto r = check(with_pipe(R"(    source: pg
    destination: ch
    mode: snapshot
    tables:
      - public.orders
      - { source: orders, destination: orders2 }
)"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[1].source", "source table 'orders' is already listed at tables[0]",
                         "each source table once per pipe"));
}

TEST(ConfigErrors, IncrementalWithoutCursor) {
  auto r = check(with_pipe(R"(    source: my
    destination: ch
    mode: incremental
    tables:
      - { source: shop.orders, cursor: updated_at }
      - shop.items
)"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[1].cursor", "incremental mode needs a cursor column for table 'shop.items'",
                         "cursor: <a column that grows on every insert and update>"));
  EXPECT_EQ(r.problems.size(), 1u) << all_messages(r);
  EXPECT_EQ(r.problems[0].line, 14);  // the table's line
}

TEST(ConfigErrors, CursorOnNonIncrementalPipe) {
  auto r = check(with_pipe(R"(    source: pg
    destination: ch
    mode: snapshot+cdc
    tables:
      - { source: public.orders, cursor: updated_at, initial_value: 5 }
)"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[0].cursor",
                         "cursor is only used by incremental pipes, but the mode is 'snapshot+cdc'",
                         "no cursor, or mode: incremental"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[0].initial_value", "initial_value is only used by incremental pipes",
                         "no initial_value, or mode: incremental"));
}

TEST(ConfigErrors, CursorExcluded) {
  auto r = check(with_pipe(R"(    source: pg
    destination: ch
    mode: incremental
    tables:
      - { source: public.orders, cursor: updated_at, exclude_columns: [updated_at] }
)"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[0].cursor", "cursor column 'updated_at' is in exclude_columns",
                         "a cursor column that is copied"));
}

TEST(ConfigErrors, StreamingModeFromSourceThatCannotStream) {
  auto r = check(kPeers + R"(pipes:
  from_ch:   { source: ch, destination: pg, mode: cdc, tables: [t] }
  from_lite: { source: lite, destination: ch, mode: snapshot+cdc, tables: [t] }
  ok:        { source: lite, destination: ch, mode: snapshot, tables: [t] }
)");
  EXPECT_TRUE(HasProblem(r, "pipes.from_ch.mode",
                         "mode 'cdc' streams changes, which a clickhouse source cannot (source peer 'ch')",
                         "mode snapshot or incremental for this source, or a postgres or mysql source"));
  EXPECT_TRUE(HasProblem(r, "pipes.from_lite.mode", "which a sqlite source cannot (source peer 'lite')",
                         "mode snapshot or incremental"));
  EXPECT_EQ(r.problems.size(), 2u) << all_messages(r);
}

TEST(ConfigErrors, SqliteCannotBeADestination) {
  auto r = check(with_pipe("    source: pg\n    destination: lite\n    mode: snapshot\n    tables: [public.t]\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.destination", "peer 'lite' is a sqlite peer, which can only be a source",
                         "a postgres, mysql or clickhouse peer as destination"));
}

TEST(ConfigErrors, SourceEqualsDestination) {
  auto r = check(with_pipe("    source: pg\n    destination: pg\n    mode: snapshot\n    tables: [public.t]\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.destination", "destination is the same peer as source ('pg')",
                         "a destination peer different from the source"));
}

TEST(ConfigErrors, OrderByOnNonClickhouseDestination) {
  auto r = check(with_pipe(R"(    source: pg
    destination: my
    mode: snapshot
    tables:
      - { source: public.orders, order_by: [customer_id] }
)"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[0].order_by",
                         "order_by applies only to a clickhouse destination, but peer 'my' is mysql",
                         "no order_by for this destination"));
}

TEST(ConfigErrors, ColumnInOrderByAndExcludeColumns) {
  auto r = check(with_pipe(R"(    source: pg
    destination: ch
    mode: snapshot
    tables:
      - { source: public.orders, order_by: [customer_id, id], exclude_columns: [card, customer_id] }
)"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[0].exclude_columns[1]",
                         "column 'customer_id' is both in order_by and in exclude_columns",
                         "an order_by column to be copied"));
}

TEST(ConfigErrors, ColumnListedTwiceOrEmpty) {
  auto r = check(with_pipe(R"(    source: pg
    destination: ch
    mode: snapshot
    tables:
      - { source: public.orders, order_by: [a, a], exclude_columns: [""] }
)"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[0].order_by[1]", "column 'a' is listed twice", "each column once"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.tables[0].exclude_columns[0]", "column name is empty", "a column name"));
}

TEST(ConfigErrors, PasswordEnvNotSet) {
  auto r = check_config("peers:\n  pg: { type: postgres, dsn: \"host=x\", password_env: MISSING_PG_PASSWORD }\n", kFile,
                        test_env());
  EXPECT_TRUE(HasProblem(r, "peers.pg.password_env", "environment variable MISSING_PG_PASSWORD is not set",
                         "the environment variable MISSING_PG_PASSWORD to hold the password of peer 'pg'"));
  auto bad = check("peers:\n  pg: { type: postgres, dsn: \"host=x\", password_env: \"not a name\" }\n");
  EXPECT_TRUE(HasProblem(bad, "peers.pg.password_env", "is not an environment variable name",
                         "the name of an environment variable"));
}

TEST(ConfigErrors, PlainPasswordKeyRefused) {
  auto r = check("peers:\n  pg: { type: postgres, dsn: \"host=x\", password: hunter2 }\n");
  EXPECT_TRUE(HasProblem(r, "peers.pg.password", "passwords are not allowed in the config file",
                         "password_env: NAME_OF_ENVIRONMENT_VARIABLE"));
  EXPECT_EQ(all_messages(r).find("hunter2"), std::string::npos);
}

TEST(ConfigErrors, PasswordInsideDsnOrUrlRefused) {
  auto r = check(R"(peers:
  pg:  { type: postgres, dsn: "host=x password=hunter2 dbname=y" }
  pgu: { type: postgres, dsn: "postgresql://u:hunter2@x/db" }
  pgq: { type: postgres, dsn: "postgresql://u@x/db?sslmode=require&password=hunter2" }
  ch:  { type: clickhouse, url: "http://default:hunter2@x:8123" }
  my:  { type: mysql, dsn: "mysql://u:hunter2@x/db" }
)");
  EXPECT_TRUE(HasProblem(r, "peers.pg.dsn", "the dsn contains a password", "no password in the dsn"));
  EXPECT_TRUE(HasProblem(r, "peers.pgu.dsn", "the dsn contains a password", "password_env"));
  EXPECT_TRUE(HasProblem(r, "peers.pgq.dsn", "the dsn contains a password", "password_env"));
  EXPECT_TRUE(HasProblem(r, "peers.ch.url", "the url contains a password", "password_env"));
  EXPECT_TRUE(HasProblem(r, "peers.my.dsn", "the dsn contains a password", "password_env"));
  EXPECT_EQ(all_messages(r).find("hunter2"), std::string::npos) << all_messages(r);
}

TEST(ConfigErrors, EmptyPipeName) {
  auto r = check(kPeers + "pipes:\n  \"\": { source: pg, destination: ch, mode: snapshot, tables: [public.t] }\n");
  EXPECT_TRUE(HasProblem(r, "pipes.\"\"", "pipe name is empty", "a name made of letters, digits"));
  auto r2 = check(kPeers + "pipes:\n  \"a/b\": { source: pg, destination: ch, mode: snapshot, tables: [public.t] }\n");
  EXPECT_TRUE(HasProblem(r2, "pipes.a/b", "pipe name 'a/b' has characters that are not allowed", "a name made of"));
}

TEST(ConfigErrors, PipeNotAMapAndSettingsNotAMap) {
  auto r = check(kPeers + "pipes:\n  p: [1, 2]\n  q: { source: pg, destination: ch, mode: cdc, tables: [t], settings: [] }\n");
  EXPECT_TRUE(HasProblem(r, "pipes.p", "pipe is a list", "a map with keys source, destination, mode, tables, settings"));
  EXPECT_TRUE(HasProblem(r, "pipes.q.settings", "settings is a list", "a map with keys batch_size"));
}

TEST(ConfigErrors, PeersOrPipesSectionNotAMap) {
  auto r = check("peers: [a, b]\npipes:\n  p: { source: a, destination: b, mode: snapshot, tables: [t] }\n");
  EXPECT_TRUE(HasProblem(r, "peers", "peers is a list", "a map of peer name to peer settings"));
  EXPECT_EQ(r.problems.size(), 1u) << all_messages(r);  // no cascade of "unknown peer"
  auto r2 = check(kPeers + "pipes: shop\n");
  EXPECT_TRUE(HasProblem(r2, "pipes", "pipes is 'shop'", "a map of pipe name to pipe settings"));
}

TEST(ConfigErrors, WrongTypeForStringKey) {
  auto r = check(with_pipe("    source: [pg]\n    destination: ch\n    mode: { a: 1 }\n    tables: [public.t]\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.source", "is a list", "the name of a peer defined under peers"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.mode", "is a map", "one of: snapshot"));
}

TEST(ConfigErrors, AllProblemsReportedInOneErrorInFileOrder) {
  std::string path = fixture("many_problems.yaml");
  try {
    load_config_file(path, test_env());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    std::string msg = e.what();
    std::vector<std::string> lines;
    size_t start = 0;
    while (start <= msg.size()) {
      size_t nl = msg.find('\n', start);
      lines.push_back(msg.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    ASSERT_EQ(lines.size(), 4u) << msg;
    EXPECT_EQ(lines[0].rfind(path + ":4: peers.lake.type: unknown peer type 'clikhouse' (did you mean 'clickhouse'?); expected one of: ", 0), 0u) << lines[0];
    EXPECT_EQ(lines[1].rfind(path + ":7: pipes.shop_to_lake.source: unknown peer 'shop_pgg' (did you mean 'shop_pg'?)", 0), 0u) << lines[1];
    EXPECT_EQ(lines[2].rfind(path + ":13: pipes.shop_to_lake.settings.batch_size: 'abc' is not an integer; expected ", 0), 0u) << lines[2];
    EXPECT_EQ(lines[3], path + ":14: pipes.shop_to_lake.settings.sync_interval: '10 seconds' is not a duration; "
                               "expected a duration like 500ms, 15s, 5m or 1h30m");
  }
}

TEST(ConfigErrors, LineNumbersPointAtTheValue) {
  auto r = check(with_pipe(kPipeBody + "    settings:\n      batch_size: 10\n      sync_interval: soon\n"));
  ASSERT_EQ(r.problems.size(), 1u);
  // kPeers is 6 lines, "pipes:" 7, "p:" 8, body 9..13, settings 14, batch_size 15
  EXPECT_EQ(r.problems[0].line, 16);
  EXPECT_EQ(r.problems[0].to_string().rfind(kFile + ":16: pipes.p.settings.sync_interval: 'soon' is not a duration", 0), 0u);
}

// ===========================================================================
// Secrets

TEST(ConfigSecrets, PasswordNeverInMessagesOrJson) {
  // A config full of problems, with a peer whose password is resolved.
  std::string yaml = R"(peers:
  pg: { type: postgres, dsn: "host=x", password_env: SHOP_PG_PASSWORD, bogus: 1 }
  ch: { type: clickhouse, url: "http://x:8123", password_env: CH_PASSWORD }
pipes:
  p: { source: pg, destination: pg, mode: incremental, tables: [public.t], settings: { batch_size: -1 } }
)";
  auto r = check(yaml);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.config.peers.at("pg").password, kSecret);
  EXPECT_EQ(all_messages(r).find(kSecret), std::string::npos);
  try {
    parse_config(yaml, kFile, test_env());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find(kSecret), std::string::npos);
  }

  Config c = parse_config(kPeers + "pipes:\n  p:\n" + kPipeBody, kFile, test_env());
  const PeerSpec& pg = c.peers.at("pg");
  ASSERT_EQ(pg.password, kSecret);
  std::string peer_json = peer_spec_to_json(pg);
  EXPECT_EQ(peer_json.find(kSecret), std::string::npos) << peer_json;
  EXPECT_EQ(peer_json.find("\"password\""), std::string::npos) << peer_json;
  EXPECT_NE(peer_json.find("SHOP_PG_PASSWORD"), std::string::npos) << peer_json;
  std::string pipe_json = pipe_spec_to_json(c.pipes.at("p"));
  EXPECT_EQ(pipe_json.find(kSecret), std::string::npos) << pipe_json;

  // resolve_password after reloading a peer from JSON
  PeerSpec back = peer_spec_from_json(peer_json);
  EXPECT_EQ(back.password, "");
  resolve_password(back, test_env());
  EXPECT_EQ(back.password, kSecret);
  back.password_env = "NOT_SET_ANYWHERE";
  try {
    resolve_password(back, test_env());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Config);
    EXPECT_NE(std::string(e.what()).find("NOT_SET_ANYWHERE"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find(kSecret), std::string::npos);
  }
}

// ===========================================================================
// JSON (the rest in spec_json_test.cpp)

TEST(SpecJson, DesignExampleRoundTrip) {
  Config c = load_config_file(fixture("design_example.yaml"), test_env());
  const PipeSpec& p = c.pipes.at("shop_to_lake");
  std::string text = pipe_spec_to_json(p);
  EXPECT_EQ(pipe_spec_to_json(pipe_spec_from_json(text)), text);
  EXPECT_TRUE(validate_pipe(pipe_spec_from_json(text), c.peers).empty());
}

// ===========================================================================
// validate_pipe (specs that come from the API or the catalog)

TEST(ValidatePipe, ChecksASpecAgainstPeers) {
  Config c = parse_config(kPeers, kFile, test_env());
  PipeSpec p;
  p.name = "api_pipe";
  p.source = "lite";
  p.destination = "nowhere";
  p.mode = PipeMode::Cdc;
  p.tables = {test::table_mapping("t", "t")};
  auto problems = validate_pipe(p, c.peers, "api");
  ASSERT_EQ(problems.size(), 2u) << format_problems(problems);
  std::string all = format_problems(problems);
  EXPECT_NE(all.find("api: pipes.api_pipe.destination: unknown peer 'nowhere'"), std::string::npos) << all;
  EXPECT_NE(all.find("api: pipes.api_pipe.mode: mode 'cdc' streams changes"), std::string::npos) << all;

  p.destination = "ch";
  p.mode = PipeMode::Snapshot;
  EXPECT_TRUE(validate_pipe(p, c.peers).empty());
}

TEST(ConfigHelpers, EditDistanceAndClosestMatch) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("dsn", "dns"), 2u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(closest_match("sync_intervall", {"batch_size", "sync_interval"}), std::optional<std::string>("sync_interval"));
  EXPECT_EQ(closest_match("zzzzzz", {"batch_size", "sync_interval"}), std::nullopt);
}

TEST(ConfigErrors, PasswordLikeKeySuggestsPasswordEnv) {
  auto r = check("peers:\n  ch: { type: clickhouse, url: \"http://x:8123\", passwd: hunter2 }\n");
  EXPECT_TRUE(HasProblem(r, "peers.ch.passwd", "unknown key 'passwd' in a peer (did you mean 'password_env'?)",
                         "one of: type, dsn"));
  EXPECT_EQ(all_messages(r).find("hunter2"), std::string::npos);
}

TEST(Config, ColumnTypesAndUnrepresentablePolicy) {
  Config c = parse_config(with_pipe(R"y(    source: pg
    destination: ch
    mode: snapshot
    tables:
      - { source: public.people, column_types: { birth_date: String, score: "Nullable(Float64)" } }
    settings: { on_unrepresentable: clamp }
)y"),
                          kFile, test_env());
  const PipeSpec& p = c.pipes.at("p");
  EXPECT_EQ(p.settings.on_unrepresentable, OnUnrepresentable::Clamp);
  ASSERT_EQ(p.tables[0].column_types.size(), 2u);
  EXPECT_EQ(p.tables[0].column_types.at("birth_date"), "String");
  EXPECT_EQ(p.tables[0].column_types.at("score"), "Nullable(Float64)");
  // Kept in the catalog's JSON form.
  PipeSpec back = pipe_spec_from_json(pipe_spec_to_json(p));
  EXPECT_EQ(back.settings.on_unrepresentable, OnUnrepresentable::Clamp);
  EXPECT_EQ(back.tables[0].column_types, p.tables[0].column_types);
  EXPECT_EQ(pipe_spec_from_json(pipe_spec_to_json(c.pipes.at("p"))).settings.on_unrepresentable,
            OnUnrepresentable::Clamp);
}

TEST(ConfigErrors, BadUnrepresentablePolicyAndColumnTypes) {
  auto r = check(with_pipe(kPipeBody + "    settings:\n      on_unrepresentable: nul\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.settings.on_unrepresentable", "unknown policy 'nul' (did you mean 'null'?)",
                         "one of: fail, text, null, clamp"));
  auto r2 = check(with_pipe(R"(    source: pg
    destination: ch
    mode: snapshot
    tables:
      - { source: public.a, column_types: [String] }
      - { source: public.b, column_types: { x: [1] }, exclude_columns: [y] }
      - { source: public.c, column_types: { y: String }, exclude_columns: [y] }
)"));
  EXPECT_TRUE(HasProblem(r2, "pipes.p.tables[0].column_types", "column_types is a list", "a map of column name"));
  EXPECT_TRUE(HasProblem(r2, "pipes.p.tables[1].column_types.x", "is a list", "a destination type"));
  EXPECT_TRUE(HasProblem(r2, "pipes.p.tables[2].column_types.y", "both in column_types and in exclude_columns",
                         "a column that is copied", false));
}

TEST(Config, SoftDeleteSetting) {
  Config c = parse_config(with_pipe("    source: pg\n    destination: my\n    mode: snapshot+cdc\n    tables: [public.t]\n"
                                    "    settings: { soft_delete: true }\n"),
                          kFile, test_env());
  EXPECT_TRUE(c.pipes.at("p").settings.soft_delete);
  EXPECT_TRUE(pipe_spec_from_json(pipe_spec_to_json(c.pipes.at("p"))).settings.soft_delete);
  auto r = check(with_pipe(kPipeBody + "    settings:\n      soft_delete: yes please\n"));
  EXPECT_TRUE(HasProblem(r, "pipes.p.settings.soft_delete", "'yes please' is not a boolean", "true or false"));
}
