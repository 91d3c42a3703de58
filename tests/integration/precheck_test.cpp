// Pre-check (DESIGN.md section 6) against the real servers: each broken
// condition makes the right named check fail (or warn), and `ferry check` /
// `ferry run` act on the report.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "connectors/postgres/pg_source.h"
#include "core/ident.h"
#include "pipe/precheck.h"
#include "support.h"
#include "../shared/pipe_spec.h"

using namespace ferry;
using namespace ferry::test;

namespace {

PipeSpec pipe_of(PipeMode mode, std::vector<std::string> tables, const std::string& name = "pc") {
  return pipe_spec(name, mode, tables);
}

const CheckResult* find_check(const PrecheckReport& r, const std::string& name) {
  for (const auto& c : r.checks)
    if (c.name == name) return &c;
  return nullptr;
}

// The check, or a test failure listing the report.
CheckResult check_of(const PrecheckReport& r, const std::string& name) {
  const CheckResult* c = find_check(r, name);
  EXPECT_NE(c, nullptr) << "no check named '" << name << "' in:\n" << r.to_text();
  return c ? *c : CheckResult{name, CheckResult::Pass, "<missing>", ""};
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A second, throwaway PostgreSQL 15 with wal_level=replica (the shared test server cannot
// be restarted). initdb as the postgres OS user into a temp dir, a free port, pg_ctl start;
// stopped by its pid (postmaster.pid) at the end.
class ReplicaWalServer {
 public:
  ReplicaWalServer() {
    char tmpl[] = "/tmp/ferry-pc-pg.XXXXXX";
    dir_ = mkdtemp(tmpl);
    port_ = free_loopback_port();
    std::string as = geteuid() == 0 ? "setpriv --reuid=postgres --regid=postgres --init-groups -- " : "";
    if (geteuid() == 0) run("chown postgres:postgres " + dir_);
    std::string bin = "/usr/lib/postgresql/15/bin/";
    run(fmt::format("cd {0} && {1}{2}initdb -D {0}/data -U postgres --auth=trust --no-locale --no-sync "
                    ">{0}/initdb.log 2>&1",
                    dir_, as, bin));
    run(fmt::format("cd {0} && {1}{2}pg_ctl -D {0}/data -w -t 60 -l {0}/postgres.log -o \"-p {3} -k {0} "
                    "-c listen_addresses=127.0.0.1 -c wal_level=replica -c shared_buffers=16MB -c max_connections=20 "
                    "-c fsync=off\" start >{0}/pg_ctl.log 2>&1",
                    dir_, as, bin, port_));
    std::ifstream pidfile(dir_ + "/data/postmaster.pid");
    pidfile >> pid_;
    if (pid_ <= 0) throw std::runtime_error("second PostgreSQL: no pid in " + dir_ + "/data/postmaster.pid");
  }
  ~ReplicaWalServer() {
    if (pid_ > 0) {
      kill(pid_, SIGINT);  // fast shutdown
      eventually([&] { return kill(pid_, 0) != 0; }, 20, std::chrono::milliseconds(100));
      if (kill(pid_, 0) == 0) kill(pid_, SIGKILL);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dsn() const { return fmt::format("host=127.0.0.1 port={} user=postgres dbname=postgres", port_); }

 private:
  void run(const std::string& cmd) {
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("second PostgreSQL: failed: " + cmd + " (see " + dir_ + ")");
  }
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = 0;
};

}  // namespace

TEST(Precheck, SuccessRateAndOk) {
  PrecheckReport r;
  EXPECT_EQ(r.success_rate(), 100.0);
  r.checks = {check_pass("a", ""), check_warn("b", "", "h"), check_fail("c", "", "h"), check_pass("d", "")};
  EXPECT_EQ(r.success_rate(), 75.0);
  EXPECT_FALSE(r.ok(true));
  r.checks.pop_back();
  r.checks.erase(r.checks.begin() + 2);
  EXPECT_FALSE(r.ok(false));
  EXPECT_TRUE(r.ok(true));
  EXPECT_TRUE(contains(r.to_text(), "success rate: 100% (1 passed, 1 warnings, 0 failed)")) << r.to_text();
  EXPECT_TRUE(contains(r.to_text(), "      hint: h")) << r.to_text();
}

// A real server with wal_level=replica: CDC pipes fail the wal_level check, snapshot pipes
// do not run it.
TEST(Precheck, WalLevelReplicaFails) {
  Sandbox sb("pc_wal");
  ReplicaWalServer server;
  PeerSpec src = sb.pg_peer();
  src.dsn = server.dsn();
  PgConnection(src.dsn, "").exec("CREATE TABLE t (id int PRIMARY KEY)");
  PrecheckReport r = run_precheck(pipe_of(PipeMode::SnapshotCdc, {"public.t"}), src, sb.ch_peer(), true);
  CheckResult c = check_of(r, "source wal_level");
  EXPECT_EQ(c.status, CheckResult::Fail) << r.to_text();
  EXPECT_TRUE(contains(c.reason, "wal_level = replica")) << c.reason;
  EXPECT_EQ(r.failed(), 1) << r.to_text();
  PrecheckReport snap = run_precheck(pipe_of(PipeMode::Snapshot, {"public.t"}), src, sb.ch_peer(), true);
  EXPECT_TRUE(snap.ok(false)) << snap.to_text();
}

// The same rule through its seam.
TEST(Precheck, WalLevelCheckSeam) {
  CheckResult c = PgSource::wal_level_check("replica");
  EXPECT_EQ(c.status, CheckResult::Fail);
  EXPECT_TRUE(contains(c.reason, "wal_level = replica")) << c.reason;
  EXPECT_TRUE(contains(c.hint, "wal_level = logical")) << c.hint;
  EXPECT_EQ(PgSource::wal_level_check("logical").status, CheckResult::Pass);
}

TEST(Precheck, FullyPassingPipe) {
  Sandbox sb("pc_ok");
  sb.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');");
  PrecheckReport r = run_precheck(pipe_of(PipeMode::SnapshotCdc, {"public.t"}), sb.pg_peer(), sb.ch_peer(), true);
  EXPECT_EQ(r.success_rate(), 100.0) << r.to_text();
  EXPECT_EQ(r.warned(), 0) << r.to_text();
  EXPECT_TRUE(r.ok(false)) << r.to_text();
  for (const char* name : {"source connectivity", "source version", "source replication privilege", "source wal_level",
                           "source replication slots", "source wal senders", "source publication",
                           "table public.t exists", "table public.t SELECT privilege", "table public.t primary key",
                           "destination connectivity", "destination version", "destination create",
                           "destination writable", "destination table t empty"})
    EXPECT_EQ(check_of(r, name).status, CheckResult::Pass) << name << "\n" << r.to_text();
  // The probe table is gone again.
  EXPECT_EQ(sb.ch_value("SELECT count() FROM system.tables WHERE database = " + quote_ch_literal(sb.name()) +
                        " AND name LIKE 'ferry_precheck_%'"),
            "0");
}

TEST(Precheck, UserWithoutReplicationPrivilegeFails) {
  Sandbox sb("pc_norepl");
  std::string role = fmt::format("ferry_norepl_{}", getpid());
  sb.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text);");
  sb.pg_exec(fmt::format("DROP ROLE IF EXISTS {0}; CREATE ROLE {0} LOGIN NOREPLICATION; GRANT SELECT ON t TO {0};", role));
  PeerSpec src = sb.pg_peer();
  src.dsn += " user=" + role;
  PrecheckReport r = run_precheck(pipe_of(PipeMode::Cdc, {"public.t"}), src, sb.ch_peer(), true);
  CheckResult c = check_of(r, "source replication privilege");
  EXPECT_EQ(c.status, CheckResult::Fail) << r.to_text();
  EXPECT_TRUE(contains(c.reason, role)) << c.reason;
  EXPECT_TRUE(contains(c.hint, "WITH REPLICATION")) << c.hint;
  EXPECT_EQ(check_of(r, "source publication").status, CheckResult::Fail) << r.to_text();  // not the table's owner
  EXPECT_EQ(check_of(r, "table public.t SELECT privilege").status, CheckResult::Pass) << r.to_text();
  EXPECT_FALSE(r.ok(true));
  EXPECT_LT(r.success_rate(), 100.0);
  sb.pg_exec(fmt::format("DROP OWNED BY {0}; DROP ROLE {0};", role));
}

TEST(Precheck, MissingTableFails) {
  Sandbox sb("pc_missing");
  sb.pg_exec("CREATE TABLE t (id int PRIMARY KEY);");
  PrecheckReport r = run_precheck(pipe_of(PipeMode::Snapshot, {"public.t", "public.nope"}), sb.pg_peer(), sb.ch_peer(),
                                  true);
  CheckResult c = check_of(r, "table public.nope exists");
  EXPECT_EQ(c.status, CheckResult::Fail) << r.to_text();
  EXPECT_TRUE(contains(c.reason, "does not exist")) << c.reason;
  EXPECT_EQ(check_of(r, "table public.t exists").status, CheckResult::Pass);
  EXPECT_FALSE(r.ok(true));
}

TEST(Precheck, TableWithoutPrimaryKeyWarns) {
  Sandbox sb("pc_nopk");
  sb.pg_exec("CREATE TABLE t (id int, v text);");
  PrecheckReport r = run_precheck(pipe_of(PipeMode::Snapshot, {"public.t"}), sb.pg_peer(), sb.ch_peer(), true);
  CheckResult c = check_of(r, "table public.t primary key");
  EXPECT_EQ(c.status, CheckResult::Warn) << r.to_text();
  EXPECT_TRUE(contains(c.reason, "no primary key")) << c.reason;
  EXPECT_TRUE(contains(c.hint, "--confirm")) << c.hint;
  EXPECT_EQ(r.failed(), 0) << r.to_text();
  EXPECT_EQ(r.success_rate(), 100.0);
  EXPECT_FALSE(r.ok(false));
  EXPECT_TRUE(r.ok(true));
  // REPLICA IDENTITY FULL is enough for CDC.
  sb.pg_exec("ALTER TABLE t REPLICA IDENTITY FULL");
  PrecheckReport cdc = run_precheck(pipe_of(PipeMode::Cdc, {"public.t"}), sb.pg_peer(), sb.ch_peer(), true);
  EXPECT_EQ(check_of(cdc, "table public.t primary key").status, CheckResult::Pass) << cdc.to_text();
}

TEST(Precheck, NoFreeReplicationSlotFails) {
  Sandbox sb("pc_slots");
  sb.pg_exec("CREATE TABLE t (id int PRIMARY KEY);");
  PgSource source(sb.pg_peer());
  std::vector<CheckResult> warmup;
  source.precheck(pipe_of(PipeMode::SnapshotCdc, {"public.t"}), warmup);  // connect before the slots are full
  // Fill every free slot with physical slots (cheap: nothing reserved) and drop them right
  // after the check: other tests (ctest -j2) share the server, so the window stays short.
  std::string prefix = fmt::format("ferry_pc_fill_{}_", getpid());
  struct Dropper {
    Sandbox& sb;
    std::string prefix;
    ~Dropper() {
      try {
        sb.pg_exec("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE '" +
                   prefix + "%'");
      } catch (const std::exception& e) {
        ADD_FAILURE() << "dropping filler slots: " << e.what();
      }
    }
  };
  std::vector<CheckResult> checks;
  {
    Dropper dropper{sb, prefix};
    sb.pg_exec(fmt::format(R"(DO $$ BEGIN
        FOR i IN 1..1000 LOOP
          BEGIN PERFORM pg_create_physical_replication_slot('{}' || i);
          EXCEPTION WHEN OTHERS THEN EXIT; END;
        END LOOP; END $$)", prefix));
    source.precheck(pipe_of(PipeMode::SnapshotCdc, {"public.t"}), checks);
  }
  EXPECT_EQ(sb.pg_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE '" + prefix + "%'"), "0");
  PrecheckReport r{checks};
  CheckResult c = check_of(r, "source replication slots");
  EXPECT_EQ(c.status, CheckResult::Fail) << r.to_text();
  EXPECT_TRUE(contains(c.reason, "no free replication slot")) << c.reason;
  EXPECT_TRUE(contains(c.hint, "max_replication_slots")) << c.hint;
  EXPECT_EQ(check_of(PrecheckReport{warmup}, "source replication slots").status, CheckResult::Pass);
  // A snapshot pipe needs no slot.
  PrecheckReport snap = run_precheck(pipe_of(PipeMode::Snapshot, {"public.t"}), sb.pg_peer(), sb.ch_peer(), true);
  EXPECT_EQ(find_check(snap, "source replication slots"), nullptr);
  EXPECT_TRUE(snap.ok(false)) << snap.to_text();
}

TEST(Precheck, UnreachableEndsFailConnectivityWithoutPassword) {
  Sandbox sb("pc_unreach");
  sb.pg_exec("CREATE TABLE t (id int PRIMARY KEY);");
  PeerSpec dst = sb.ch_peer();
  int port = free_loopback_port();
  dst.url = fmt::format("http://127.0.0.1:{}", port);
  dst.password = "s3cret-ch-pw";
  PrecheckReport r = run_precheck(pipe_of(PipeMode::Snapshot, {"public.t"}), sb.pg_peer(), dst, true);
  CheckResult c = check_of(r, "destination connectivity");
  EXPECT_EQ(c.status, CheckResult::Fail) << r.to_text();
  EXPECT_TRUE(contains(c.reason, fmt::format("127.0.0.1:{}", port))) << c.reason;
  EXPECT_EQ(check_of(r, "destination writable").reason, "not connected");
  EXPECT_EQ(check_of(r, "source connectivity").status, CheckResult::Pass);
  EXPECT_FALSE(contains(r.to_text(), "s3cret")) << r.to_text();

  // Same for the source.
  PeerSpec src = sb.pg_peer();
  int pg_port = free_loopback_port();
  src.dsn = fmt::format("host=127.0.0.1 port={} dbname=x user=postgres connect_timeout=5", pg_port);
  src.password = "s3cret-pg-pw";
  PrecheckReport s = run_precheck(pipe_of(PipeMode::Cdc, {"public.t"}), src, sb.ch_peer(), true);
  CheckResult sc = check_of(s, "source connectivity");
  EXPECT_EQ(sc.status, CheckResult::Fail) << s.to_text();
  EXPECT_TRUE(contains(sc.reason, fmt::format("127.0.0.1:{}", pg_port))) << sc.reason;
  EXPECT_EQ(check_of(s, "source wal_level").reason, "not connected");
  EXPECT_EQ(check_of(s, "table public.t exists").reason, "not connected");
  EXPECT_FALSE(contains(s.to_text(), "s3cret")) << s.to_text();
}

TEST(Precheck, CursorColumnChecks) {
  Sandbox sb("pc_cursor");
  sb.pg_exec("CREATE TABLE u (id int PRIMARY KEY, k uuid NOT NULL, ts timestamp, n bigint NOT NULL);");
  auto pipe_with_cursor = [&](const std::string& cursor) {
    PipeSpec p = pipe_of(PipeMode::Incremental, {"public.u"});
    p.tables[0].cursor = cursor;
    return run_precheck(p, sb.pg_peer(), sb.ch_peer(), true);
  };
  PrecheckReport r = pipe_with_cursor("k");
  CheckResult c = check_of(r, "table public.u cursor column");
  EXPECT_EQ(c.status, CheckResult::Fail) << r.to_text();
  EXPECT_TRUE(contains(c.reason, "uuid")) << c.reason;
  // Deletes are a property of the mode: shown, not a warning to confirm.
  EXPECT_EQ(check_of(r, "incremental deletes").status, CheckResult::Pass);
  EXPECT_TRUE(contains(check_of(r, "incremental deletes").reason, "deletes are not propagated in incremental mode"));

  PrecheckReport nullable = pipe_with_cursor("ts");
  EXPECT_EQ(check_of(nullable, "table public.u cursor column").status, CheckResult::Warn) << nullable.to_text();
  EXPECT_TRUE(nullable.ok(true));
  EXPECT_FALSE(nullable.ok(false));

  PrecheckReport missing = pipe_with_cursor("nope");
  EXPECT_EQ(check_of(missing, "table public.u cursor column").status, CheckResult::Fail);

  PrecheckReport good = pipe_with_cursor("n");
  EXPECT_TRUE(good.ok(false)) << good.to_text();
  // Streaming checks are not run for incremental pipes.
  EXPECT_EQ(find_check(good, "source wal_level"), nullptr);
}

TEST(Precheck, NonEmptyDestinationTableWarnsForNewPipe) {
  Sandbox sb("pc_nonempty");
  sb.pg_exec("CREATE TABLE t (id int PRIMARY KEY);");
  sb.ch("CREATE TABLE " + quote_backtick_ident(sb.name()) + ".t (id Int32) ENGINE = MergeTree ORDER BY id");
  sb.ch("INSERT INTO " + quote_backtick_ident(sb.name()) + ".t VALUES (1), (2)");
  PrecheckReport r = run_precheck(pipe_of(PipeMode::Snapshot, {"public.t"}), sb.pg_peer(), sb.ch_peer(), true);
  CheckResult c = check_of(r, "destination table t empty");
  EXPECT_EQ(c.status, CheckResult::Warn) << r.to_text();
  EXPECT_TRUE(contains(c.reason, "2 rows")) << c.reason;
  PrecheckReport existing = run_precheck(pipe_of(PipeMode::Snapshot, {"public.t"}), sb.pg_peer(), sb.ch_peer(), false);
  EXPECT_EQ(find_check(existing, "destination table t empty"), nullptr);
  EXPECT_TRUE(existing.ok(false)) << existing.to_text();
}

TEST(Precheck, FerryCheckAndRunThroughTheBinary) {
  Sandbox sb("pc_cli");
  sb.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');"
             "CREATE TABLE nopk (id int, v text); INSERT INTO nopk VALUES (1, 'a');");
  std::string config = write_file(sb.dir() + "/ferry.yaml", fmt::format(R"(
peers:
  src: {{ type: postgres, dsn: "{}" }}
  dst: {{ type: clickhouse, url: "{}", database: "{}" }}
  down: {{ type: clickhouse, url: "http://127.0.0.1:{}", database: "{}" }}
pipes:
  good:
    source: src
    destination: dst
    mode: snapshot
    tables: [ public.t ]
  warn:
    source: src
    destination: dst
    mode: snapshot
    tables: [ public.nopk ]
  bad:
    source: src
    destination: dst
    mode: snapshot
    tables: [ public.missing ]
  unreachable:
    source: src
    destination: down
    mode: snapshot
    tables: [ public.t ]
)", sb.pg_dsn(), env_or_fail("FERRY_TEST_CH_URL"), sb.name(), free_loopback_port(), sb.name()));
  std::string out;
  EXPECT_EQ(run_ferry({"check", "-f", config, "--pipe", "good"}, &out), 0) << out;
  EXPECT_TRUE(contains(out, "PASS  source connectivity")) << out;
  EXPECT_TRUE(contains(out, "success rate: 100% (")) << out;

  EXPECT_EQ(run_ferry({"check", "-f", config, "--pipe", "bad"}, &out), 1) << out;
  EXPECT_TRUE(contains(out, "FAIL  table public.missing exists")) << out;
  EXPECT_TRUE(contains(out, "hint: ")) << out;
  EXPECT_FALSE(contains(out, "success rate: 100%")) << out;

  EXPECT_EQ(run_ferry({"check", "-f", config, "--pipe", "unreachable"}, &out), 1) << out;
  EXPECT_TRUE(contains(out, "FAIL  destination connectivity")) << out;

  EXPECT_EQ(run_ferry({"check", "-f", config, "--pipe", "warn"}, &out), 1) << out;
  EXPECT_TRUE(contains(out, "WARN  table public.nopk primary key")) << out;
  EXPECT_TRUE(contains(out, "success rate: 100% (")) << out;
  EXPECT_EQ(run_ferry({"check", "-f", config, "--pipe", "warn", "--confirm"}, &out), 0) << out;

  ASSERT_EQ(run_ferry({"check", "-f", config, "--pipe", "bad", "--output", "json"}, &out), 1) << out;
  nlohmann::json j = nlohmann::json::parse(out.substr(out.find('{')));
  EXPECT_EQ(j["ok"], false);
  EXPECT_GE(j["failed"].get<int>(), 1);
  EXPECT_LT(j["success_rate"].get<int>(), 100);

  // `ferry run` pre-checks a new pipe: refused with unconfirmed warnings or failures.
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  EXPECT_EQ(run_ferry({"run", "-f", config, "--pipe", "bad", "--catalog", catalog_arg, "--no-progress"}, &out), 1) << out;
  EXPECT_TRUE(contains(out, "FAIL  table public.missing exists")) << out;
  EXPECT_EQ(run_ferry({"run", "-f", config, "--pipe", "warn", "--catalog", catalog_arg, "--no-progress"}, &out), 1) << out;
  EXPECT_TRUE(contains(out, "--confirm")) << out;
  EXPECT_EQ(sb.ch_value("SELECT count() FROM system.tables WHERE database = " + quote_ch_literal(sb.name()) +
                        " AND name = 'nopk'"),
            "0");
  EXPECT_EQ(run_ferry({"run", "-f", config, "--pipe", "warn", "--catalog", catalog_arg, "--no-progress", "--confirm"},
                      &out),
            0)
      << out;
  EXPECT_TRUE(contains(out, "warn: Completed")) << out;
}
