#include "support.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "connectors/clickhouse/tsv_answer.h"
#include "core/ident.h"
#include "test_env.h"

namespace ferry::test {

std::string env_or_fail(const char* name) { return require_env(name); }

namespace {

size_t append_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

std::string ch_post(const std::string& url, const std::string& sql) {
  CURL* curl = curl_easy_init();
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, (url + "/").c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, sql.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(sql.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) throw std::runtime_error(std::string("ClickHouse unreachable: ") + curl_easy_strerror(rc));
  if (status != 200) throw std::runtime_error(fmt::format("ClickHouse error for `{}`: {}", sql, body));
  return body;
}

std::atomic<int> g_counter{0};

}  // namespace

Sandbox::Sandbox(const std::string& tag) {
  name_ = fmt::format("ferry_{}_{}_{}", tag, getpid(), g_counter++);
  char tmpl[] = "/tmp/ferry-test.XXXXXX";
  dir_ = mkdtemp(tmpl);
  admin_ = std::make_unique<PgConnection>(env_or_fail("FERRY_TEST_PG_DSN"), "");
  admin_->exec("CREATE DATABASE " + quote_pg_ident(name_));
  pg_ = std::make_unique<PgConnection>(pg_dsn(), "");
  ch("CREATE DATABASE IF NOT EXISTS " + quote_backtick_ident(name_));
}

Sandbox::~Sandbox() {
  try {
    pg_.reset();
    // Replication slots of this database would block DROP DATABASE.
    admin_->exec_params("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                        "WHERE database = $1 AND NOT active", {name_});
    admin_->exec("DROP DATABASE IF EXISTS " + quote_pg_ident(name_) + " WITH (FORCE)");
    ch("DROP DATABASE IF EXISTS " + quote_backtick_ident(name_));
    std::filesystem::remove_all(dir_);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sandbox cleanup: %s\n", e.what());
  }
}

std::string Sandbox::pg_dsn() const { return env_or_fail("FERRY_TEST_PG_DSN") + " dbname=" + name_; }

void Sandbox::pg_exec(const std::string& sql) { pg_->exec(sql); }

std::vector<std::vector<std::string>> Sandbox::pg_rows(const std::string& sql) {
  PgResult r = pg_->exec(sql);
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < r.rows(); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < r.columns(); ++j) row.push_back(r.is_null(i, j) ? "\\N" : r.get(i, j));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string Sandbox::pg_value(const std::string& sql) { return pg_->query_value(sql); }

void Sandbox::pg_drop_slot(const std::string& slot) {
  std::string released = "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "' AND NOT active";
  if (!eventually([&] { return pg_value(released) == "1"; }))
    throw std::runtime_error("replication slot " + slot + " still active");
  pg_exec("SELECT pg_drop_replication_slot('" + slot + "')");
}

std::string Sandbox::ch(const std::string& sql) { return ch_post(env_or_fail("FERRY_TEST_CH_URL"), sql); }

std::string Sandbox::ch_value(const std::string& sql) {
  std::string v = ch(sql);
  while (!v.empty() && v.back() == '\n') v.pop_back();
  return v;
}

std::vector<std::vector<std::string>> Sandbox::ch_rows(const std::string& sql) {
  return clickhouse::tsv_rows(ch(sql + " FORMAT TabSeparated"));
}

std::string Sandbox::write_config(const std::string& pipes_yaml) const {
  return write_file(dir_ + "/ferry.yaml",
                    fmt::format("peers:\n  src: {{ type: postgres, dsn: \"{}\" }}\n"
                                "  dst: {{ type: clickhouse, url: \"{}\", database: \"{}\" }}\npipes:\n{}",
                                pg_dsn(), env_or_fail("FERRY_TEST_CH_URL"), name_, pipes_yaml));
}

PeerSpec Sandbox::pg_peer() const {
  PeerSpec p;
  p.name = "src";
  p.type = PeerType::Postgres;
  p.dsn = pg_dsn();
  return p;
}

PeerSpec Sandbox::ch_peer() const {
  PeerSpec p;
  p.name = "dst";
  p.type = PeerType::ClickHouse;
  p.url = env_or_fail("FERRY_TEST_CH_URL");
  p.database = name_;
  p.user = "default";
  return p;
}

pid_t spawn_ferry_run(const std::string& config, const std::string& catalog, const std::vector<std::string>& extra) {
  // Built before fork: the child only execs (other threads may be running).
  std::vector<std::string> args = {FERRY_BINARY, "run", "-f", config, "--catalog", catalog, "--no-progress"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    execv(FERRY_BINARY, argv.data());
    _exit(127);
  }
  if (pid < 0) throw std::runtime_error("fork failed");
  return pid;
}

int run_ferry(const std::vector<std::string>& args, std::string* out) {
  std::string cmd = FERRY_BINARY;
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  char buf[4096];
  std::string output;
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, n);
  int status = pclose(p);
  if (out) *out = output;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

pid_t test_server_pid(const std::string& name) {
  std::ifstream in(env_or_fail("FERRY_SERVERS_DIR") + "/" + name + ".pid");
  pid_t p = 0;
  in >> p;
  return p;
}

FileRemovedAtExit::~FileRemovedAtExit() { std::remove(path.c_str()); }

std::string write_file(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool stop_ferry_run(pid_t pid) {
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool killed_by_sigkill(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

void kill_nine_rounds(const std::string& config, const std::string& catalog, int rounds, unsigned seed, int min_ms,
                      int spread_ms) {
  std::mt19937 rng(seed);
  for (int round = 0; round < rounds; ++round) {
    pid_t pid = spawn_ferry_run(config, catalog);
    std::this_thread::sleep_for(std::chrono::milliseconds(min_ms + rng() % spread_ms));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
}

std::string ch_table(const Sandbox& sb, const std::string& table) {
  return quote_backtick_ident(sb.name()) + "." + quote_backtick_ident(table);
}

int free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

bool partitions_done(const std::string& catalog_location, const std::string& pipe, int64_t partitions, int seconds) {
  return eventually([&] {
    try {
      auto tables = open_catalog(catalog_location)->tables(pipe);
      return !tables.empty() && tables[0].partitions_done >= partitions;
    } catch (...) {
      return false;  // the catalog is being created
    }
  }, seconds);
}

void kill_nine_mid_load(const std::string& config, const std::string& catalog, const std::string& pipe,
                        int64_t partitions, CutLoad& cut) {
  pid_t pid = spawn_ferry_run(config, catalog);
  partitions_done(catalog, pipe, partitions, 60);
  kill(pid, SIGKILL);
  EXPECT_TRUE(killed_by_sigkill(pid));
  auto c = open_catalog(catalog);
  auto tables = c->tables(pipe);
  ASSERT_EQ(tables.size(), 1u);
  cut.done = tables[0].partitions_done;
  cut.total = tables[0].partitions_total;
  ASSERT_EQ(c->get_pipe(pipe)->state, PipeState::Snapshot);
  ASSERT_GT(cut.done, 0);
  ASSERT_LT(cut.done, cut.total) << "the load finished before the kill; make the table bigger";
}

void finish_cut_load(const std::string& config, const std::string& catalog, const CutLoad& cut) {
  std::string out;
  int rc = run_ferry({"run", "-f", config, "--catalog", catalog, "--no-progress"}, &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(fmt::format("{} partitions to load", cut.total - cut.done)), std::string::npos) << out;
}

bool reaches_state(Catalog& catalog, const std::string& pipe, PipeState state, int seconds) {
  return eventually([&] {
    auto rec = catalog.get_pipe(pipe);
    return rec && rec->state == state;
  }, seconds);
}

}  // namespace ferry::test
