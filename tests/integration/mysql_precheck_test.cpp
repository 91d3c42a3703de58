// Pre-check of pipes with a MariaDB 10.11 source (binlog ROW, FULL image and metadata
// on the test server): the source's replication prerequisites, and the per-table checks
// of pipe/precheck.cpp on "db.table" names, with a privileged and an unprivileged user.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "pipe/precheck.h"
#include "mysql_support.h"
#include "support.h"

using namespace ferry;
using namespace ferry::test;

namespace {

PipeSpec pipe_of(const std::vector<std::string>& tables, PipeMode mode) {
  PipeSpec p;
  p.name = "pre";
  p.source = "src";
  p.destination = "dst";
  p.mode = mode;
  for (const auto& t : tables) {
    TableMapping m;
    m.source = t;
    p.tables.push_back(m);
  }
  return p;
}

const CheckResult* find(const PrecheckReport& r, const std::string& name) {
  for (const auto& c : r.checks)
    if (c.name == name) return &c;
  return nullptr;
}

::testing::AssertionResult has(const PrecheckReport& r, const std::string& name, CheckResult::Status status) {
  const CheckResult* c = find(r, name);
  if (!c) return ::testing::AssertionFailure() << "no check named '" << name << "' in\n" << r.to_text();
  if (c->status != status)
    return ::testing::AssertionFailure() << name << " is " << to_string(c->status) << ": " << c->reason;
  return ::testing::AssertionSuccess();
}

}  // namespace

TEST(MysqlPrecheck, StreamingPipeOnAPreparedServerPasses) {
  Sandbox sb("my_pre");
  MysqlDatabase my(sb);
  my.exec("CREATE TABLE keyed (id INT PRIMARY KEY, d DATE)");
  my.exec("CREATE TABLE loose (a INT)");
  PipeSpec pipe = pipe_of({my.name() + ".keyed", my.name() + ".loose"}, PipeMode::SnapshotCdc);
  PrecheckReport r = run_precheck(pipe, my.peer(), sb.ch_peer(), true);
  for (const char* name : {"source connectivity", "source version", "source log_bin", "source binlog_format",
                           "source binlog_row_image", "source binlog_row_metadata", "source server_id",
                           "source replication privilege", "source gtid mode"})
    EXPECT_TRUE(has(r, name, CheckResult::Pass)) << r.to_text();
  EXPECT_TRUE(find(r, "source binlog retention")) << r.to_text();
  EXPECT_TRUE(has(r, "table " + my.name() + ".keyed exists", CheckResult::Pass));
  EXPECT_TRUE(has(r, "table " + my.name() + ".keyed SELECT privilege", CheckResult::Pass));
  EXPECT_TRUE(has(r, "table " + my.name() + ".keyed primary key", CheckResult::Pass));
  EXPECT_TRUE(has(r, "table " + my.name() + ".loose primary key", CheckResult::Warn));
  // The keyless warning says what happens on MariaDB, nothing of PostgreSQL.
  const CheckResult* loose = find(r, "table " + my.name() + ".loose primary key");
  ASSERT_TRUE(loose);
  EXPECT_NE(loose->reason.find("appended as a row of its own"), std::string::npos) << loose->reason;
  EXPECT_EQ(loose->reason.find("PostgreSQL"), std::string::npos) << loose->reason;
  EXPECT_EQ(loose->hint.find("REPLICA IDENTITY"), std::string::npos) << loose->hint;
  EXPECT_NE(loose->hint.find("UNIQUE index"), std::string::npos) << loose->hint;
  // Snapshot-only pipes need none of the binlog prerequisites.
  PrecheckReport snap = run_precheck(pipe_of({my.name() + ".keyed"}, PipeMode::Snapshot), my.peer(), sb.ch_peer(), true);
  EXPECT_FALSE(find(snap, "source log_bin")) << snap.to_text();
  EXPECT_TRUE(has(snap, "source connectivity", CheckResult::Pass));
}

TEST(MysqlPrecheck, ZeroDatesInADateColumnAreReported) {
  Sandbox sb("my_pre_zero");
  MysqlDatabase my(sb);
  my.exec("SET SESSION sql_mode = ''");
  my.exec("CREATE TABLE z (id INT PRIMARY KEY, d DATE)");
  my.exec("INSERT INTO z VALUES (1, '0000-00-00'), (2, '2024-01-01')");
  PrecheckReport r = run_precheck(pipe_of({my.name() + ".z"}, PipeMode::Snapshot), my.peer(), sb.ch_peer(), true);
  const CheckResult* c = find(r, "table " + my.name() + ".z column d values");
  ASSERT_TRUE(c) << r.to_text();
  EXPECT_EQ(c->status, CheckResult::Fail) << c->reason;
  EXPECT_NE(c->reason.find("0000-00-00"), std::string::npos) << c->reason;
}

TEST(MysqlPrecheck, UnprivilegedUserFailsNamingWhatIsMissing) {
  Sandbox sb("my_pre_user");
  MysqlDatabase my(sb);
  my.exec("CREATE TABLE secret (id INT PRIMARY KEY)");
  my.exec("CREATE TABLE open_t (id INT PRIMARY KEY)");
  my.exec("DROP USER IF EXISTS 'ferry_low'@'%'");
  my.exec("CREATE USER 'ferry_low'@'%'");
  my.exec(fmt::format("GRANT SELECT ON `{}`.`open_t` TO 'ferry_low'@'%'", my.name()));
  PeerSpec peer = my.peer();
  peer.user = "ferry_low";
  PipeSpec pipe = pipe_of({my.name() + ".open_t", my.name() + ".secret"}, PipeMode::SnapshotCdc);
  PrecheckReport r = run_precheck(pipe, peer, sb.ch_peer(), true);
  EXPECT_TRUE(has(r, "source connectivity", CheckResult::Pass));
  EXPECT_TRUE(has(r, "source replication privilege", CheckResult::Fail));
  EXPECT_NE(find(r, "source replication privilege")->reason.find("REPLICATION SLAVE"), std::string::npos);
  EXPECT_TRUE(has(r, "table " + my.name() + ".open_t SELECT privilege", CheckResult::Pass));
  // Without any privilege on it, the table is invisible: reported as missing, named.
  const CheckResult* secret = find(r, "table " + my.name() + ".secret exists");
  ASSERT_TRUE(secret) << r.to_text();
  EXPECT_EQ(secret->status, CheckResult::Fail);
  EXPECT_NE(secret->reason.find(my.name() + ".secret"), std::string::npos) << secret->reason;
  my.exec("DROP USER 'ferry_low'@'%'");
}
