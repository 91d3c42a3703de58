// `ferry server` as a child process against the real servers: the REST API,
// the CLI talking to it, pause/resume under live writes, independent pipes,
// kill -9 / SIGTERM restarts, bad input, secrets and the token.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/ident.h"
#include "cdc_support.h"
#include "support.h"

using namespace ferry;
using namespace ferry::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

struct Answer {
  int status = 0;
  std::string body;
  json j() const { return json::parse(body, nullptr, false); }
  std::string error() const {
    json x = j();
    return x.is_object() && x.contains("error") && x["error"].is_string() ? x["error"].get<std::string>() : body;
  }
};

// A `ferry server` child process.
class FerryServer {
 public:
  FerryServer(Sandbox& sb, std::string config, std::string listen_host = "127.0.0.1")
      : sb_(sb), config_(std::move(config)), host_(std::move(listen_host)), port_(free_loopback_port()),
        log_(sb.dir() + fmt::format("/server-{}.log", port_)) {}
  ~FerryServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Environment changes for the child: value nullopt unsets.
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  std::vector<std::string> extra_args;

  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }
  int port() const { return port_; }
  std::string log() const { return read_all(log_); }
  std::string catalog_arg() const { return "sqlite:" + sb_.catalog_path(); }

  void spawn() {
    std::vector<std::string> args = {FERRY_BINARY, "server", "-f", config_, "--catalog", catalog_arg(), "--listen",
                                     fmt::format("{}:{}", host_, port_)};
    for (const auto& a : extra_args) args.push_back(a);
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      for (const auto& [k, v] : env) {
        if (v) setenv(k.c_str(), v->c_str(), 1);
        else unsetenv(k.c_str());
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(FERRY_BINARY, argv.data());
      _exit(127);
    }
  }

  // Starts and waits until the API answers.
  ::testing::AssertionResult start() {
    spawn();
    bool exited = false;
    bool answers = eventually([&] {
      int status = 0;
      exited = waitpid(pid_, &status, WNOHANG) == pid_;
      return exited || get("/api/v1/pipes").status == 200;
    }, 30);
    if (exited) {
      pid_ = -1;
      return ::testing::AssertionFailure() << "ferry server exited early: " << log();
    }
    if (answers) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "ferry server did not answer in 30 s: " << log();
  }

  // Sends `sig`; returns the exit code (or -signal) once it exited.
  int stop(int sig = SIGTERM, std::chrono::seconds timeout = 60s) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    int status = 0;
    if (!eventually([&] { return waitpid(pid_, &status, WNOHANG) != 0; }, static_cast<int>(timeout.count()), 20ms)) {
      ADD_FAILURE() << "ferry server did not exit within " << timeout.count() << " s of signal " << sig;
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

  // Waits for the child to exit on its own; exit code, or nullopt after the timeout.
  std::optional<int> wait_exit(std::chrono::seconds timeout) {
    int status = 0;
    if (!eventually([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, static_cast<int>(timeout.count()), 20ms))
      return std::nullopt;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

  Answer get(const std::string& path) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    auto r = c.Get(path.c_str());
    return r ? Answer{r->status, r->body} : Answer{0, "no answer: " + httplib::to_string(r.error())};
  }
  Answer post(const std::string& path, const std::string& body = "", const std::string& content_type = "application/json",
              const std::string& token = "") const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(120, 0);
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    auto r = c.Post(path.c_str(), h, body, content_type.c_str());
    return r ? Answer{r->status, r->body} : Answer{0, "no answer: " + httplib::to_string(r.error())};
  }
  Answer act(const std::string& pipe, const std::string& action, const std::string& body = "{}",
             const std::string& token = "") const {
    return post("/api/v1/pipes/" + pipe + "/" + action, body, "application/json", token);
  }

  std::string state(const std::string& pipe) const {
    Answer a = get("/api/v1/pipes/" + pipe);
    json j = a.j();
    return a.status == 200 && j.is_object() ? j["state"].get<std::string>() : fmt::format("<{}: {}>", a.status, a.body);
  }

  // Waits until the pipe is in `want`; a Failed pipe ends the wait (unless wanted).
  ::testing::AssertionResult wait_state(const std::string& pipe, const std::string& want,
                                        std::chrono::seconds timeout = 90s) const {
    std::string s;
    eventually([&] {
      s = state(pipe);
      return s == want || (s == "Failed" && want != "Failed");
    }, static_cast<int>(timeout.count()), 100ms);
    if (s == want) return ::testing::AssertionSuccess();
    if (s == "Failed" && want != "Failed")
      return ::testing::AssertionFailure() << pipe << " failed: " << get("/api/v1/pipes/" + pipe).body;
    return ::testing::AssertionFailure() << pipe << " is " << s << ", not " << want << " after " << timeout.count()
                                         << " s";
  }

 private:
  Sandbox& sb_;
  std::string config_;
  std::string host_;
  int port_;
  std::string log_;
  pid_t pid_ = -1;
};

struct PipeDef {
  std::string name;
  std::string mode;
  std::string tables;  // YAML flow list
  std::string settings = "{ sync_interval: 200ms, batch_size: 500, snapshot_rows_per_partition: 500, "
                         "snapshot_parallelism: 2, max_retries: 0 }";
};

std::string config_yaml(Sandbox& sb, const std::vector<PipeDef>& pipes, const std::string& pg_extra = "") {
  std::string out = fmt::format(R"(peers:
  src: {{ type: postgres, dsn: "{}"{} }}
  dst: {{ type: clickhouse, url: "{}", database: "{}" }}
pipes:
)",
                                sb.pg_dsn(), pg_extra, env_or_fail("FERRY_TEST_CH_URL"), sb.name());
  if (pipes.empty()) out += "  {}\n";
  for (const auto& p : pipes)
    out += fmt::format("  {}:\n    source: src\n    destination: dst\n    mode: {}\n    tables: {}\n    settings: {}\n",
                       p.name, p.mode, p.tables, p.settings);
  return out;
}

// Inserts, updates and deletes rows of `acc (id int PRIMARY KEY, balance bigint, note text)`.
class Writer {
 public:
  explicit Writer(Sandbox& sb, int first_id = 100000) : sb_(sb), next_id_(first_id) {
    thread_ = std::thread([this] {
      try {
        PgConnection conn(sb_.pg_dsn(), "");
        std::mt19937 rng(42);
        while (running_) {
          int a = 1 + rng() % 2000, b = 1 + rng() % 2000;
          conn.exec(fmt::format("BEGIN; UPDATE acc SET balance = balance - 1 WHERE id = {0}; "
                                "UPDATE acc SET balance = balance + 1, note = note || '+' WHERE id = {1}; "
                                "INSERT INTO acc VALUES ({2}, 0, 'fresh'); "
                                "DELETE FROM acc WHERE id = {2} - 3 AND id >= {3}; COMMIT;",
                                a, b, next_id_, first_));
          ++next_id_;
          ++transactions_;
          std::this_thread::sleep_for(3ms);
        }
      } catch (const std::exception& e) {
        error_ = e.what();
      }
    });
  }
  ~Writer() { stop(); }
  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
    EXPECT_EQ(error_, "") << "writer failed";
  }
  int transactions() const { return transactions_; }

 private:
  Sandbox& sb_;
  int next_id_;
  int first_ = next_id_;
  std::atomic<bool> running_{true};
  std::atomic<int> transactions_{0};
  std::string error_;
  std::thread thread_;
};

const std::vector<std::string> kAccCols = {"id", "balance", "note"};

void create_acc(Sandbox& sb, int rows) {
  sb.pg_exec(fmt::format("CREATE TABLE acc (id int PRIMARY KEY, balance bigint, note text);"
                         "INSERT INTO acc SELECT g, 1000, 'n' || g FROM generate_series(1, {}) g;",
                         rows));
}

std::string ch_count(Sandbox& sb, const std::string& table) {
  return sb.ch_value(fmt::format("SELECT count() FROM {}.{} FINAL WHERE _ferry_is_deleted = 0",
                                 quote_backtick_ident(sb.name()), quote_backtick_ident(table)));
}

bool ch_table_exists(Sandbox& sb, const std::string& table) {
  return sb.ch_value(fmt::format("SELECT count() FROM system.tables WHERE database = '{}' AND name = '{}'", sb.name(),
                                 table)) != "0";
}

std::string slots_of(Sandbox& sb) {
  return sb.pg_value(fmt::format("SELECT count(*) FROM pg_replication_slots WHERE database = '{}'", sb.name()));
}

// Value of a metric line with exactly these labels, or -1.
double metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

}  // namespace

// Every action through the API, refusals in the wrong state, pause/resume
// under live writes with exact convergence, metrics, history, delete.
TEST(ServerApi, ActionsUnderLiveWritesConverge) {
  Sandbox sb("srvact");
  create_acc(sb, 3000);
  std::string config = write_file(sb.dir() + "/ferry.yaml", config_yaml(sb, {{"srv_acc", "snapshot+cdc", "[ public.acc ]"}}));
  FerryServer srv(sb, config);
  ASSERT_TRUE(srv.start());
  ASSERT_TRUE(srv.wait_state("srv_acc", "Running"));

  // Refused in the wrong state, with a message naming it.
  Answer a = srv.act("srv_acc", "resume");
  EXPECT_EQ(a.status, 409) << a.body;
  EXPECT_TRUE(contains(a.error(), "Running")) << a.body;
  a = srv.act("srv_acc", "reset", R"({"confirm": true})");
  EXPECT_EQ(a.status, 409) << a.body;
  EXPECT_TRUE(contains(a.error(), "Running")) << a.body;

  Writer writer(sb);
  std::this_thread::sleep_for(1s);
  a = srv.act("srv_acc", "pause");
  EXPECT_EQ(a.status, 202) << a.body;
  EXPECT_EQ(a.j()["state"], "Pausing") << a.body;
  EXPECT_TRUE(a.j()["message"].is_string());
  ASSERT_TRUE(srv.wait_state("srv_acc", "Paused"));
  a = srv.act("srv_acc", "pause");
  EXPECT_EQ(a.status, 409) << a.body;
  EXPECT_TRUE(contains(a.error(), "Paused")) << a.body;

  // Paused: nothing is read from the source although it keeps changing.
  std::string paused_count = ch_count(sb, "acc");
  int tx_before = writer.transactions();
  std::this_thread::sleep_for(1500ms);
  EXPECT_GT(writer.transactions(), tx_before);
  EXPECT_EQ(ch_count(sb, "acc"), paused_count);

  a = srv.act("srv_acc", "resume");
  EXPECT_EQ(a.status, 202) << a.body;
  ASSERT_TRUE(srv.wait_state("srv_acc", "Running"));
  std::this_thread::sleep_for(1s);
  writer.stop();
  EXPECT_TRUE(converges(sb, "acc", kAccCols));

  // Resync through the API: the table is rebuilt and swapped in, then streaming goes on.
  a = srv.act("srv_acc", "resync", R"({"table": "public.acc"})");
  EXPECT_EQ(a.status, 202) << a.body;
  ASSERT_TRUE(srv.wait_state("srv_acc", "Running", 120s));
  sb.pg_exec("UPDATE acc SET note = 'after resync' WHERE id <= 5");
  EXPECT_TRUE(converges(sb, "acc", kAccCols));
  a = srv.act("srv_acc", "resync", R"({"table": "nosuch"})");
  EXPECT_EQ(a.status, 409) << a.body;
  EXPECT_TRUE(contains(a.error(), "nosuch") && contains(a.error(), "public.acc")) << a.body;

  // Reads.
  json st = srv.get("/api/v1/pipes/srv_acc").j();
  EXPECT_EQ(st["mode"], "snapshot+cdc");
  EXPECT_TRUE(st["checkpoint"].is_string()) << st.dump();
  EXPECT_TRUE(st["error"].is_null());
  for (const char* k : {"name", "state", "mode", "error", "checkpoint", "retry_count", "lag_bytes", "lag_seconds", "tables"})
    EXPECT_TRUE(st.contains(k)) << k;
  json tables = srv.get("/api/v1/pipes/srv_acc/tables").j();
  ASSERT_EQ(tables.size(), 1u) << tables.dump();
  EXPECT_EQ(tables[0]["source"], "public.acc");
  EXPECT_EQ(tables[0]["destination"], "acc");
  for (const char* k : {"state", "rows_loaded", "partitions_total", "partitions_done", "avg_partition_ms", "load_started_at"})
    EXPECT_TRUE(tables[0].contains(k)) << k;
  EXPECT_EQ(tables[0]["partitions_done"], tables[0]["partitions_total"]);
  // Statistics of the resync's load: every row the source had then.
  EXPECT_EQ(tables[0]["rows_loaded"], std::stoll(sb.pg_value("SELECT count(*) FROM acc")));
  json history = srv.get("/api/v1/pipes/srv_acc/history").j();
  std::vector<std::string> to;
  for (const auto& h : history) {
    for (const char* k : {"at", "from", "to", "reason"}) EXPECT_TRUE(h.contains(k)) << k;
    to.push_back(h["to"]);
  }
  std::vector<std::string> expected = {"Provisioning", "Setup",   "Snapshot", "Running", "Pausing", "Paused",
                                       "Running",      "Snapshot", "Resync",   "Running"};
  ASSERT_GE(to.size(), expected.size());
  EXPECT_EQ(std::vector<std::string>(to.begin(), to.begin() + expected.size()), expected);
  json list = srv.get("/api/v1/pipes").j();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "srv_acc");

  // Metrics: counters of this server process.
  std::string m = srv.get("/metrics").body;
  // The first load's 3000 rows and the resync's load.
  EXPECT_EQ(metric(m, R"(ferry_rows_total{pipe="srv_acc",table="public.acc",phase="snapshot"})"),
            3000 + tables[0]["rows_loaded"].get<double>()) << m;
  EXPECT_GT(metric(m, R"(ferry_bytes_total{pipe="srv_acc",table="public.acc",phase="snapshot"})"), 3000 * 8) << m;
  EXPECT_GT(metric(m, R"(ferry_rows_total{pipe="srv_acc",table="public.acc",phase="cdc"})"), 0) << m;
  EXPECT_GT(metric(m, R"(ferry_bytes_total{pipe="srv_acc",table="public.acc",phase="cdc"})"), 0) << m;
  EXPECT_GT(metric(m, R"(ferry_batches_total{pipe="srv_acc"})"), 0) << m;
  EXPECT_EQ(metric(m, R"(ferry_pipe_state{pipe="srv_acc",state="Running"})"), 1) << m;
  EXPECT_EQ(metric(m, R"(ferry_pipe_state{pipe="srv_acc",state="Paused"})"), 0) << m;
  EXPECT_EQ(metric(m, R"(ferry_retries{pipe="srv_acc"})"), 0) << m;
  EXPECT_GE(metric(m, R"(ferry_lag_seconds{pipe="srv_acc"})"), 0) << m;
  EXPECT_GE(metric(m, R"(ferry_lag_bytes{pipe="srv_acc"})"), 0) << m;

  // Reset from Paused: pre-check, then Setup -> Snapshot -> Running with a new slot; the
  // cleared destination converges exactly (deletes made while paused included);
  // the table's load statistics start again.
  a = srv.act("srv_acc", "pause");
  EXPECT_EQ(a.status, 202) << a.body;
  ASSERT_TRUE(srv.wait_state("srv_acc", "Paused"));
  sb.pg_exec("DELETE FROM acc WHERE id % 7 = 0");
  a = srv.act("srv_acc", "reset", R"({"confirm": true, "clear_destination": true})");
  EXPECT_EQ(a.status, 202) << a.body;
  EXPECT_TRUE(contains(a.j()["message"].get<std::string>(), "cleared")) << a.body;
  ASSERT_TRUE(srv.wait_state("srv_acc", "Running", 120s));
  EXPECT_TRUE(converges(sb, "acc", kAccCols));
  tables = srv.get("/api/v1/pipes/srv_acc/tables").j();
  ASSERT_EQ(tables.size(), 1u) << tables.dump();
  EXPECT_EQ(tables[0]["rows_loaded"], std::stoll(sb.pg_value("SELECT count(*) FROM acc"))) << tables.dump();
  history = srv.get("/api/v1/pipes/srv_acc/history").j();
  ASSERT_GE(history.size(), 3u);
  EXPECT_EQ(history[history.size() - 3]["to"], "Setup") << history.dump();
  EXPECT_EQ(history[history.size() - 3]["reason"], "reset: clearing destination") << history.dump();
  EXPECT_EQ(history.back()["to"], "Running") << history.dump();

  // Delete: the slot goes, and with drop_destination the ClickHouse table.
  EXPECT_EQ(slots_of(sb), "1");
  a = srv.act("srv_acc", "delete", R"({"drop_destination": true})");
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_TRUE(a.j()["state"].is_null()) << a.body;
  EXPECT_EQ(slots_of(sb), "0");
  EXPECT_EQ(sb.pg_value("SELECT count(*) FROM pg_publication"), "0");
  EXPECT_FALSE(ch_table_exists(sb, "acc"));
  EXPECT_EQ(srv.get("/api/v1/pipes/srv_acc").status, 404);
  EXPECT_EQ(srv.act("srv_acc", "pause").status, 404);
  EXPECT_EQ(srv.stop(SIGTERM), 0);
}

// The CLI against the server: reads, every action, exit codes, apply and
// prune, $FERRY_SERVER, --catalog, an unreachable server.
TEST(ServerApi, CliAgainstTheServer) {
  Sandbox sb("srvcli");
  sb.pg_exec("CREATE TABLE items (id int PRIMARY KEY, name text);"
             "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 1200) g;"
             "CREATE TABLE live (id int PRIMARY KEY, v text);"
             "INSERT INTO live SELECT g, 'v' || g FROM generate_series(1, 300) g;"
             "CREATE TABLE more (id int PRIMARY KEY);"
             "INSERT INTO more SELECT generate_series(1, 50);");
  PipeDef snap{"cli_snap", "snapshot", "[ public.items ]"};
  PipeDef live{"cli_live", "snapshot+cdc", "[ public.live ]"};
  PipeDef more{"cli_more", "snapshot", "[ public.more ]"};
  std::string config = write_file(sb.dir() + "/ferry.yaml", config_yaml(sb, {snap, live}));
  FerryServer srv(sb, config);
  ASSERT_TRUE(srv.start());
  ASSERT_TRUE(srv.wait_state("cli_snap", "Completed"));
  ASSERT_TRUE(srv.wait_state("cli_live", "Running"));
  auto ferry = [&](std::vector<std::string> args, std::string* out) {
    args.insert(args.begin(), {"--server", srv.url()});
    return run_ferry(args, out);
  };
  std::string out;

  EXPECT_EQ(ferry({"pipe", "list"}, &out), 0) << out;
  EXPECT_TRUE(contains(out, "cli_snap") && contains(out, "Completed") && contains(out, "cli_live") &&
              contains(out, "Running"))
      << out;
  EXPECT_EQ(ferry({"pipe", "status", "cli_live", "--output", "json"}, &out), 0) << out;
  json st = json::parse(out, nullptr, false);
  ASSERT_TRUE(st.is_object()) << out;
  EXPECT_EQ(st["state"], "Running");
  EXPECT_EQ(st["tables"][0]["rows_loaded"], 300);
  EXPECT_EQ(ferry({"pipe", "status", "cli_live"}, &out), 0) << out;
  EXPECT_TRUE(contains(out, "state:      Running")) << out;
  EXPECT_EQ(ferry({"pipe", "tables", "cli_snap"}, &out), 0) << out;
  EXPECT_TRUE(contains(out, "public.items") && contains(out, "1200")) << out;
  EXPECT_EQ(ferry({"pipe", "tables", "cli_snap", "--output", "json"}, &out), 0) << out;
  EXPECT_EQ(json::parse(out)[0]["rows_loaded"], 1200);
  EXPECT_EQ(ferry({"pipe", "history", "cli_snap"}, &out), 0) << out;
  EXPECT_TRUE(contains(out, "Snapshot      -> Completed")) << out;
  EXPECT_EQ(ferry({"pipe", "history", "cli_snap", "-o", "json"}, &out), 0) << out;
  EXPECT_EQ(json::parse(out).back()["to"], "Completed");
  EXPECT_EQ(ferry({"pipe", "status", "nosuch"}, &out), 1) << out;
  EXPECT_TRUE(contains(out, "nosuch")) << out;

  // Actions and their exit codes.
  EXPECT_EQ(ferry({"pipe", "pause", "cli_snap"}, &out), 1) << out;
  EXPECT_TRUE(contains(out, "Completed")) << out;
  EXPECT_EQ(ferry({"pipe", "pause", "cli_live"}, &out), 0) << out;
  EXPECT_TRUE(contains(out, "Pausing")) << out;
  ASSERT_TRUE(srv.wait_state("cli_live", "Paused"));
  EXPECT_EQ(ferry({"pipe", "pause", "cli_live"}, &out), 1) << out;
  EXPECT_TRUE(contains(out, "Paused")) << out;
  sb.pg_exec("INSERT INTO live SELECT g, 'while paused ' || g FROM generate_series(1001, 1100) g;"
             "UPDATE live SET v = 'changed while paused' WHERE id <= 10; DELETE FROM live WHERE id BETWEEN 11 AND 20;");
  EXPECT_EQ(ferry({"pipe", "resume", "cli_live"}, &out), 0) << out;
  EXPECT_EQ(ferry({"pipe", "resume", "cli_live", "--output", "json"}, &out), 1) << out;
  EXPECT_TRUE(contains(json::parse(out)["error"].get<std::string>(), "Running")) << out;
  EXPECT_EQ(ferry({"pipe", "reset", "cli_live", "--confirm", "--clear-destination"}, &out), 1) << out;
  EXPECT_TRUE(contains(out, "Running")) << out;
  EXPECT_EQ(ferry({"pipe", "resync", "cli_live", "--table", "public.live"}, &out), 0) << out;
  ASSERT_TRUE(srv.wait_state("cli_live", "Running", 120s));
  EXPECT_EQ(ferry({"pipe", "history", "cli_live"}, &out), 0) << out;
  EXPECT_TRUE(contains(out, "Resync")) << out;
  EXPECT_TRUE(converges(sb, "live", {"id", "v"}));

  // apply: a new pipe is created and started; the others are unchanged.
  std::string config2 = write_file(sb.dir() + "/ferry2.yaml", config_yaml(sb, {snap, live, more}));
  EXPECT_EQ(ferry({"apply", "-f", config2}, &out), 0) << out;
  EXPECT_TRUE(contains(out, "created    cli_more")) << out;
  EXPECT_TRUE(contains(out, "unchanged  cli_snap")) << out;
  ASSERT_TRUE(srv.wait_state("cli_more", "Completed"));
  EXPECT_EQ(ch_count(sb, "more"), "50");
  // A broken file is refused with the problem, nothing changes.
  std::string bad = write_file(sb.dir() + "/bad.yaml", "peers: {}\npipes:\n  x: { source: nowhere }\n");
  EXPECT_EQ(ferry({"apply", "-f", bad}, &out), 2) << out;
  EXPECT_TRUE(contains(out, "bad.yaml")) << out;
  // The catalog file can be read directly while the server runs.
  EXPECT_EQ(run_ferry({"pipe", "status", "cli_more", "--catalog", srv.catalog_arg()}, &out), 0) << out;
  EXPECT_TRUE(contains(out, "Completed")) << out;
  EXPECT_EQ(run_ferry({"pipe", "status", "nosuch", "--catalog", srv.catalog_arg()}, &out), 1) << out;
  // apply --prune removes the pipes the file does not name.
  std::string config3 = write_file(sb.dir() + "/ferry3.yaml", config_yaml(sb, {live}));
  EXPECT_EQ(ferry({"apply", "-f", config3, "--prune", "--output", "json"}, &out), 0) << out;
  json applied = json::parse(out, nullptr, false);
  std::vector<std::string> removed = applied["removed"];
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(removed, (std::vector<std::string>{"cli_more", "cli_snap"})) << out;
  EXPECT_EQ(applied["unchanged"], json({"cli_live"})) << out;
  EXPECT_EQ(srv.get("/api/v1/pipes/cli_snap").status, 404);
  EXPECT_EQ(srv.state("cli_live"), "Running");

  // $FERRY_SERVER is the default server.
  setenv("FERRY_SERVER", srv.url().c_str(), 1);
  int rc = run_ferry({"pipe", "list"}, &out);
  unsetenv("FERRY_SERVER");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(contains(out, "cli_live")) << out;

  EXPECT_EQ(ferry({"pipe", "delete", "cli_live", "--drop-destination"}, &out), 0) << out;
  EXPECT_TRUE(contains(out, "deleted")) << out;
  EXPECT_EQ(slots_of(sb), "0");
  EXPECT_FALSE(ch_table_exists(sb, "live"));
  EXPECT_TRUE(ch_table_exists(sb, "items"));  // pruned without drop_destination: kept
  EXPECT_EQ(ferry({"pipe", "delete", "cli_live"}, &out), 1) << out;

  // Nobody listening: a clear message naming the URL, exit 2.
  std::string nowhere = fmt::format("http://127.0.0.1:{}", free_loopback_port());
  EXPECT_EQ(run_ferry({"--server", nowhere, "pipe", "list"}, &out), 2) << out;
  EXPECT_TRUE(contains(out, nowhere)) << out;
  EXPECT_EQ(run_ferry({"--server", nowhere, "pipe", "pause", "x"}, &out), 2) << out;
  EXPECT_TRUE(contains(out, nowhere)) << out;
  EXPECT_EQ(srv.stop(SIGTERM), 0);
}

// Two pipes in one server are independent: one failing leaves the other Running.
TEST(ServerApi, OneFailingPipeLeavesTheOtherRunning) {
  Sandbox sb("srvtwo");
  sb.pg_exec("CREATE TABLE good (id int PRIMARY KEY, v text); INSERT INTO good SELECT g, 'g' || g FROM generate_series(1, 500) g;"
             "CREATE TABLE bad (id int PRIMARY KEY, v text); INSERT INTO bad VALUES (1, 'b');");
  PipeDef good{"two_good", "snapshot+cdc", "[ public.good ]"};
  PipeDef bad{"two_bad", "snapshot+cdc", "[ { source: public.bad, exclude_columns: [ no_such_column ] } ]"};
  std::string config = write_file(sb.dir() + "/ferry.yaml", config_yaml(sb, {good, bad}));
  FerryServer srv(sb, config);
  ASSERT_TRUE(srv.start());
  ASSERT_TRUE(srv.wait_state("two_bad", "Failed"));
  ASSERT_TRUE(srv.wait_state("two_good", "Running"));
  json st = srv.get("/api/v1/pipes/two_bad").j();
  EXPECT_TRUE(contains(st["error"].get<std::string>(), "no_such_column")) << st.dump();
  sb.pg_exec("INSERT INTO good VALUES (1000, 'after'); UPDATE good SET v = 'upd' WHERE id < 10; DELETE FROM good WHERE id = 20;");
  EXPECT_TRUE(converges(sb, "good", {"id", "v"}));
  // Resuming the failed pipe fails it again with the same cause; the good one is untouched.
  Answer a = srv.act("two_bad", "resume");
  EXPECT_EQ(a.status, 202) << a.body;
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(srv.wait_state("two_bad", "Failed"));
  EXPECT_EQ(srv.state("two_good"), "Running");
  std::string m = srv.get("/metrics").body;
  EXPECT_EQ(metric(m, R"(ferry_pipe_state{pipe="two_bad",state="Failed"})"), 1) << m;
  EXPECT_EQ(metric(m, R"(ferry_pipe_state{pipe="two_good",state="Running"})"), 1) << m;
  sb.pg_exec("INSERT INTO good VALUES (1001, 'later')");
  EXPECT_TRUE(converges(sb, "good", {"id", "v"}));

  // The check action runs the pre-check against the real servers.
  Answer chk = srv.act("two_good", "check");
  ASSERT_EQ(chk.status, 200) << chk.body;
  EXPECT_TRUE(chk.j()["ok"].get<bool>()) << chk.body;
  EXPECT_EQ(chk.j()["success_rate"].get<int>(), 100) << chk.body;
  sb.pg_exec("ALTER TABLE bad RENAME TO bad_gone");
  chk = srv.act("two_bad", "check");
  ASSERT_EQ(chk.status, 200) << chk.body;
  EXPECT_FALSE(chk.j()["ok"].get<bool>()) << chk.body;
  bool names_table = false;
  json report = chk.j();
  for (const auto& c : report["checks"])
    names_table |= c["status"] == "fail" && contains(c["reason"].get<std::string>(), "public.bad");
  EXPECT_TRUE(names_table) << chk.body;
  EXPECT_EQ(srv.act("no_such_pipe", "check").status, 404);
  EXPECT_EQ(srv.act("two_good", "check", R"({"confirm": "yes"})").status, 400);

  // A new pipe is started only when its pre-check passes: apply refuses it (409) and creates nothing.
  Answer applied = srv.post("/api/v1/apply", config_yaml(sb, {PipeDef{"two_missing", "snapshot+cdc", "[ public.nope ]"}}),
                            "application/yaml");
  EXPECT_EQ(applied.status, 409) << applied.body;
  json refused = applied.j()["refused"];
  ASSERT_EQ(refused.size(), 1u) << applied.body;
  EXPECT_EQ(refused[0]["pipe"], "two_missing");
  EXPECT_TRUE(contains(refused[0]["precheck"].get<std::string>(), "public.nope")) << applied.body;
  EXPECT_EQ(srv.get("/api/v1/pipes/two_missing").status, 404);
  EXPECT_EQ(srv.stop(SIGTERM), 0);
}

// kill -9 at random points (during the load and while streaming) under live
// writes; each restart continues from states and checkpoints and the result
// converges exactly. SIGTERM exits 0 and leaves the pipe resumable; a paused
// pipe stays paused across a restart.
TEST(ServerApi, KillNineAndSigtermRestartsConverge) {
  Sandbox sb("srvkill");
  create_acc(sb, 2000);
  // Enough partitions that the first kills land in the initial load.
  sb.pg_exec("INSERT INTO acc SELECT g, 7, repeat('x', 200) FROM generate_series(2001, 60000) g");
  PipeDef p{"kill_acc", "snapshot+cdc", "[ public.acc ]",
            "{ sync_interval: 200ms, batch_size: 300, snapshot_rows_per_partition: 500, snapshot_parallelism: 2 }"};
  std::string config = write_file(sb.dir() + "/ferry.yaml", config_yaml(sb, {p}));
  FerryServer srv(sb, config);
  {
    // Pause during the initial load: the load resumes with the partitions not yet done.
    ASSERT_TRUE(srv.start());
    json t;
    eventually([&] {
      t = srv.get("/api/v1/pipes/kill_acc/tables").j();
      return t.is_array() && !t.empty() && t[0]["partitions_done"].get<int64_t>() > 0;
    }, 60, 20ms);
    Answer a = srv.act("kill_acc", "pause");
    ASSERT_EQ(a.status, 202) << a.body;
    ASSERT_TRUE(srv.wait_state("kill_acc", "Paused"));
    t = srv.get("/api/v1/pipes/kill_acc/tables").j();
    int64_t done = t[0]["partitions_done"], total = t[0]["partitions_total"];
    EXPECT_LT(done, total) << "the load finished before the pause: make the table larger";
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(srv.get("/api/v1/pipes/kill_acc/tables").j()[0]["partitions_done"], done);  // paused: no progress
    json history = srv.get("/api/v1/pipes/kill_acc/history").j();
    EXPECT_EQ(history[history.size() - 2]["from"], "Snapshot") << history.dump();
    EXPECT_EQ(history[history.size() - 2]["to"], "Pausing") << history.dump();
    ASSERT_EQ(srv.act("kill_acc", "resume").status, 202);
    EXPECT_EQ(srv.state("kill_acc"), "Snapshot");
  }
  {
    Writer writer(sb);
    std::mt19937 rng(11);
    std::vector<std::string> killed_in;
    for (int round = 0; round < 6; ++round) {
      if (round > 0) {
        ASSERT_TRUE(srv.start());  // round 0: the server started above
      }
      // The first kills land wherever they land (mostly the load), the later ones while streaming.
      if (round >= 3) {
        ASSERT_TRUE(srv.wait_state("kill_acc", "Running", 180s));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 1500));
      killed_in.push_back(srv.state("kill_acc"));
      EXPECT_EQ(srv.stop(SIGKILL), -SIGKILL);
    }
    std::string states;
    for (const auto& s : killed_in) states += " " + s;
    std::printf("kill -9 landed in:%s\n", states.c_str());
    ASSERT_TRUE(srv.start());
    ASSERT_TRUE(srv.wait_state("kill_acc", "Running", 180s));
    std::this_thread::sleep_for(1s);
    writer.stop();
  }
  EXPECT_TRUE(converges(sb, "acc", kAccCols, "id", 120s));

  // Pause, SIGTERM, restart: still Paused (nothing read), then resume.
  ASSERT_EQ(srv.act("kill_acc", "pause").status, 202);
  ASSERT_TRUE(srv.wait_state("kill_acc", "Paused"));
  EXPECT_EQ(srv.stop(SIGTERM), 0);
  sb.pg_exec("INSERT INTO acc VALUES (900001, 1, 'while stopped'); UPDATE acc SET note = 'stopped-upd' WHERE id = 5;");
  ASSERT_TRUE(srv.start());
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(srv.state("kill_acc"), "Paused");
  EXPECT_EQ(ch_count(sb, "acc"), std::to_string(std::stoll(sb.pg_value("SELECT count(*) FROM acc")) - 1));
  ASSERT_EQ(srv.act("kill_acc", "resume").status, 202);
  EXPECT_TRUE(converges(sb, "acc", kAccCols));

  // SIGTERM while streaming under writes: exit 0, state and checkpoint kept.
  {
    Writer writer(sb, 200000);
    std::this_thread::sleep_for(1500ms);
    EXPECT_EQ(srv.stop(SIGTERM), 0);
    std::this_thread::sleep_for(500ms);
    writer.stop();
  }
  {
    auto catalog = open_catalog(sb.catalog_path());
    auto rec = catalog->get_pipe("kill_acc");
    ASSERT_TRUE(rec.has_value());
    EXPECT_EQ(rec->state, PipeState::Running);
    EXPECT_TRUE(catalog->checkpoint("kill_acc", "").has_value());
  }
  ASSERT_TRUE(srv.start());
  EXPECT_TRUE(converges(sb, "acc", kAccCols));
  EXPECT_EQ(srv.state("kill_acc"), "Running");
  EXPECT_FALSE(contains(srv.log(), "Failed")) << srv.log();
  EXPECT_EQ(srv.stop(SIGINT), 0);
}

// Beyond loopback a token is required; bad input gets 4xx with the cause; no
// secret appears in any answer or in the log.
TEST(ServerApi, TokenBadInputAndSecrets) {
  Sandbox sb("srvtok");
  sb.pg_exec("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b');");
  const std::string password = "pw-Zq81-never-shown";
  const std::string token = "tok-7Hx2-never-shown";
  std::string config = write_file(
      sb.dir() + "/ferry.yaml",
      config_yaml(sb, {{"tok_snap", "snapshot", "[ public.t ]"}}, ", password_env: FERRY_TEST_SECRET_PW"));

  // Not loopback and no token: refuses to start, naming the variable.
  {
    FerryServer no_token(sb, config, "0.0.0.0");
    no_token.env = {{"FERRY_API_TOKEN", std::nullopt}, {"FERRY_TEST_SECRET_PW", password}};
    no_token.spawn();
    std::optional<int> rc = no_token.wait_exit(30s);
    ASSERT_TRUE(rc.has_value()) << "server started without a token on 0.0.0.0";
    EXPECT_NE(*rc, 0);
    EXPECT_TRUE(contains(no_token.log(), "FERRY_API_TOKEN")) << no_token.log();
  }

  FerryServer srv(sb, config, "0.0.0.0");
  srv.extra_args = {"--token-env", "FERRY_TEST_TOKEN"};
  srv.env = {{"FERRY_TEST_TOKEN", token}, {"FERRY_TEST_SECRET_PW", password}};
  ASSERT_TRUE(srv.start());
  ASSERT_TRUE(srv.wait_state("tok_snap", "Completed"));

  // Mutations need the token; reads stay open.
  Answer a = srv.act("tok_snap", "pause");
  EXPECT_EQ(a.status, 401) << a.body;
  EXPECT_TRUE(contains(a.error(), "token")) << a.body;
  EXPECT_EQ(srv.act("tok_snap", "pause", "{}", "wrong").status, 401);
  EXPECT_EQ(srv.post("/api/v1/apply", "peers: {}", "application/yaml").status, 401);
  a = srv.act("tok_snap", "pause", "{}", token);
  EXPECT_EQ(a.status, 409) << a.body;  // authorised, refused by the state
  EXPECT_TRUE(contains(a.error(), "Completed")) << a.body;

  // Bad input: 4xx with a message naming the cause.
  a = srv.act("no_such_pipe", "pause", "{}", token);
  EXPECT_EQ(a.status, 404) << a.body;
  EXPECT_TRUE(contains(a.error(), "no_such_pipe")) << a.body;
  a = srv.act("tok_snap", "explode", "{}", token);
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_TRUE(contains(a.error(), "pause, resume, resync, reset, delete")) << a.body;
  a = srv.act("tok_snap", "reset", R"({"confirm": tru)", token);
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_TRUE(contains(a.error(), "not valid JSON")) << a.body;
  a = srv.act("tok_snap", "reset", R"({"confirm": "yes"})", token);
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_TRUE(contains(a.error(), "\"confirm\"") && contains(a.error(), "boolean")) << a.body;
  a = srv.act("tok_snap", "delete", R"({"drop_destination": 1})", token);
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_TRUE(contains(a.error(), "drop_destination")) << a.body;
  a = srv.act("tok_snap", "resync", R"({"table": ["t"]})", token);
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_TRUE(contains(a.error(), "\"table\"")) << a.body;
  a = srv.post("/api/v1/apply", "pipes:\n  p: { source: nowhere, destination: dst, mode: sometimes }\n",
               "application/yaml", token);
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_TRUE(contains(a.error(), "nowhere")) << a.body;
  EXPECT_EQ(srv.get("/api/v1/pipes/no_such_pipe").status, 404);
  EXPECT_EQ(srv.get("/api/v1/pipes/no_such_pipe/tables").status, 404);
  EXPECT_EQ(srv.get("/api/v1/nothing/here").status, 404);
  EXPECT_EQ(srv.state("tok_snap"), "Completed");  // nothing above changed it

  // The CLI sends $FERRY_API_TOKEN.
  std::string out;
  EXPECT_EQ(run_ferry({"--server", srv.url(), "pipe", "pause", "tok_snap"}, &out), 2) << out;
  EXPECT_TRUE(contains(out, "token")) << out;
  setenv("FERRY_API_TOKEN", token.c_str(), 1);
  int rc = run_ferry({"--server", srv.url(), "pipe", "pause", "tok_snap"}, &out);
  unsetenv("FERRY_API_TOKEN");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_TRUE(contains(out, "Completed")) << out;

  // No secret in any GET answer, nor in the log.
  json peers = srv.get("/api/v1/peers").j();
  ASSERT_EQ(peers.size(), 2u) << peers.dump();
  for (const auto& p : peers) {
    EXPECT_FALSE(p.contains("password")) << p.dump();
    if (p["name"] == "src") {
      EXPECT_EQ(p["password_env"], "FERRY_TEST_SECRET_PW");
    }
  }
  for (const char* path : {"/api/v1/pipes", "/api/v1/pipes/tok_snap", "/api/v1/pipes/tok_snap/tables",
                           "/api/v1/pipes/tok_snap/history", "/api/v1/peers", "/metrics"}) {
    Answer g = srv.get(path);
    EXPECT_EQ(g.status, 200) << path;
    EXPECT_FALSE(contains(g.body, password)) << path << ": " << g.body;
    EXPECT_FALSE(contains(g.body, token)) << path << ": " << g.body;
  }
  EXPECT_EQ(srv.stop(SIGTERM), 0);
  EXPECT_FALSE(contains(srv.log(), password)) << srv.log();
  EXPECT_FALSE(contains(srv.log(), token)) << srv.log();
}

// Tables added to and removed from a running pipe through `apply`: an added table is loaded
// (Snapshot) and then streams with the others; a removed one leaves the publication and its
// destination table stays as it was.
TEST(ServerApi, AddAndRemoveTablesOnARunningPipe) {
  Sandbox sb("srvtables");
  sb.pg_exec("CREATE TABLE a (id int PRIMARY KEY, v text); INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 300) g;"
             "CREATE TABLE b (id int PRIMARY KEY, v text); INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, 2000) g;");
  PipeDef one{"tabs", "snapshot+cdc", "[ public.a ]"};
  std::string config = write_file(sb.dir() + "/ferry.yaml", config_yaml(sb, {one}));
  FerryServer srv(sb, config);
  ASSERT_TRUE(srv.start());
  ASSERT_TRUE(srv.wait_state("tabs", "Running"));

  PipeDef two{"tabs", "snapshot+cdc", "[ public.a, public.b ]"};
  Answer added = srv.post("/api/v1/apply", config_yaml(sb, {two}), "application/yaml");
  ASSERT_EQ(added.status, 200) << added.body;
  ASSERT_TRUE(srv.wait_state("tabs", "Running"));
  sb.pg_exec("INSERT INTO a VALUES (1000, 'new a'); UPDATE b SET v = 'upd' WHERE id <= 10; DELETE FROM b WHERE id = 50;");
  EXPECT_TRUE(converges(sb, "a", {"id", "v"}));
  EXPECT_TRUE(converges(sb, "b", {"id", "v"}));

  PipeDef only_b{"tabs", "snapshot+cdc", "[ public.b ]"};
  Answer removed = srv.post("/api/v1/apply", config_yaml(sb, {only_b}), "application/yaml");
  ASSERT_EQ(removed.status, 200) << removed.body;
  ASSERT_TRUE(srv.wait_state("tabs", "Running"));
  sb.pg_exec("INSERT INTO a VALUES (2000, 'not moved'); INSERT INTO b VALUES (5000, 'moved');");
  EXPECT_TRUE(converges(sb, "b", {"id", "v"}));
  EXPECT_EQ(sb.ch_value(fmt::format("SELECT count() FROM {}.a FINAL WHERE id = 2000", quote_backtick_ident(sb.name()))), "0");
  EXPECT_EQ(sb.ch_value(fmt::format("SELECT count() FROM {}.a FINAL", quote_backtick_ident(sb.name()))), "301");
  EXPECT_EQ(sb.pg_value("SELECT string_agg(tablename, ',') FROM pg_publication_tables WHERE pubname = 'ferry_tabs'"), "b");
  std::string history = srv.get("/api/v1/pipes/tabs/history").body;
  EXPECT_TRUE(contains(history, "tables added: public.b")) << history;
  EXPECT_TRUE(contains(history, "Modifying")) << history;
  EXPECT_EQ(srv.stop(SIGTERM), 0);
}

// Settings that depend on the destination's capabilities are checked by apply before
// anything changes: a type ClickHouse 18.16 lacks is refused naming it (the pipe keeps
// running with its old spec); a nullable order_by column is accepted and, after a
// resync, sorted by assumeNotNull() on servers without allow_nullable_key.
TEST(ServerApi, DestinationSettingsAreCheckedAtApply) {
  Sandbox sb("srvsettings");
  sb.pg_exec("CREATE TABLE a (id int PRIMARY KEY, n int, d date); "
             "INSERT INTO a SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE g % 7 END, '2024-01-01' FROM generate_series(1, 500) g;");
  PipeDef one{"sets", "snapshot+cdc", "[ public.a ]"};
  std::string config = write_file(sb.dir() + "/ferry.yaml", config_yaml(sb, {one}));
  FerryServer srv(sb, config);
  ASSERT_TRUE(srv.start());
  ASSERT_TRUE(srv.wait_state("sets", "Running"));

  PipeDef date32{"sets", "snapshot+cdc", "[ { source: public.a, column_types: { d: Date32 } } ]"};
  Answer refused = srv.post("/api/v1/apply", config_yaml(sb, {date32}), "application/yaml");
  bool has_date32 = refused.status == 200;  // a server with Date32 (21.9+) takes it
  if (!has_date32) {
    EXPECT_EQ(refused.status, 409) << refused.body;
    EXPECT_TRUE(contains(refused.body, "Date32")) << refused.body;
    EXPECT_TRUE(contains(refused.body, "String")) << refused.body;  // the fix
    ASSERT_TRUE(srv.wait_state("sets", "Running"));
    sb.pg_exec("UPDATE a SET d = '2024-02-02' WHERE id = 1");
    EXPECT_TRUE(converges(sb, "a", {"id", "n", "d"}));
  }

  PipeDef ordered{"sets", "snapshot+cdc", "[ { source: public.a, order_by: [n] } ]"};
  Answer accepted = srv.post("/api/v1/apply", config_yaml(sb, {ordered}), "application/yaml");
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  Answer resynced = srv.post("/api/v1/pipes/sets/resync", "{}");
  ASSERT_EQ(resynced.status / 100, 2) << resynced.body;
  ASSERT_TRUE(eventually([&] {
    return contains(sb.ch_value(fmt::format("SELECT sorting_key FROM system.tables WHERE database = '{}' AND name = 'a'",
                                            sb.name())),
                    "n");
  }, 90));
  ASSERT_TRUE(srv.wait_state("sets", "Running"));
  std::string key = sb.ch_value(
      fmt::format("SELECT sorting_key FROM system.tables WHERE database = '{}' AND name = 'a'", sb.name()));
  EXPECT_TRUE(key == "assumeNotNull(n), id" || key == "n, id") << key;
  sb.pg_exec("UPDATE a SET n = NULL WHERE id = 2; UPDATE a SET n = 5 WHERE id = 3; DELETE FROM a WHERE id = 4;");
  EXPECT_TRUE(converges(sb, "a", {"id", "n", "d"}));
  EXPECT_EQ(srv.stop(SIGTERM), 0);
}
