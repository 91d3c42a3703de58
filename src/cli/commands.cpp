#include "cli/commands.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "pipe/config.h"
#include "pipe/config_change.h"
#include "pipe/precheck.h"
#include "pipe/runner.h"
#include "pipe/spec_json.h"
#include "cli/api_client.h"
#include "server/api_json.h"
#include "server/http_server.h"
#include "server/pipe_manager.h"

namespace ferry::cli {

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

std::string human_count(int64_t n) {
  if (n >= 10'000'000) return fmt::format("{:.1f}M", n / 1e6);
  if (n >= 10'000) return fmt::format("{:.1f}k", n / 1e3);
  return std::to_string(n);
}

class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool tty) : tty_(tty) {}
  void update(const std::string& pipe, const LoadProgress& p) {
    std::lock_guard<std::mutex> lock(mu_);
    int pct = p.partitions_total ? static_cast<int>(100 * p.partitions_done / p.partitions_total) : 100;
    if (tty_) {
      int width = 30, filled = pct * width / 100;
      std::string bar(filled, '#');
      bar.append(width - filled, '.');
      std::fprintf(stderr, "\r\033[K%s %s [%s] %3d%% %lld/%lld partitions, %s rows", pipe.c_str(), p.table.c_str(),
                   bar.c_str(), pct, (long long)p.partitions_done, (long long)p.partitions_total,
                   human_count(p.rows).c_str());
      if (p.partitions_done == p.partitions_total) std::fprintf(stderr, "\n");
    } else {
      std::fprintf(stderr, "%s %s: %lld/%lld partitions, %lld rows\n", pipe.c_str(), p.table.c_str(),
                   (long long)p.partitions_done, (long long)p.partitions_total, (long long)p.rows);
    }
  }

 private:
  bool tty_;
  std::mutex mu_;
};

std::string state_or_error(const PipeRecord& r) {
  return r.last_error.empty() ? to_string(r.state) : fmt::format("{}: {}", to_string(r.state), r.last_error);
}

}  // namespace

int not_built(const std::string& what) {
  std::cerr << "ferry: " << what << " is not built yet in this version of ferry\n";
  return 3;
}

int check_pipe(const CheckArgs& args) {
  Config config = load_config_file(args.config_file);
  auto it = config.pipes.find(args.pipe);
  if (it == config.pipes.end()) throw config_error(fmt::format("{}: no pipe named '{}'", args.config_file, args.pipe));
  const PipeSpec& spec = it->second;
  bool new_pipe = true;
  if (!args.catalog.empty()) new_pipe = !open_catalog(args.catalog)->get_pipe(spec.name);
  PrecheckReport report = run_precheck(spec, config.peers.at(spec.source), config.peers.at(spec.destination), new_pipe);
  bool ok = report.ok(args.confirm);
  if (args.output == "json") {
    nlohmann::json j = report.to_json();
    j["pipe"] = spec.name;
    j["ok"] = ok;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << report.to_text();
    if (!ok && report.failed() == 0) std::cout << "warnings need --confirm\n";
  }
  return ok ? 0 : 1;
}

int run_pipes(const RunArgs& args) {
  Config config = load_config_file(args.config_file);
  std::vector<std::string> names = args.pipes.empty() ? config.pipe_order : args.pipes;
  for (const auto& n : names)
    if (!config.pipes.count(n)) throw config_error(fmt::format("{}: no pipe named '{}'", args.config_file, n));
  if (names.empty()) throw config_error(args.config_file + ": no pipes to run");

  std::unique_ptr<Catalog> catalog = open_catalog(args.catalog);
  // Existing pipes whose config changed first (tables added or removed are refused in
  // states that do not allow it), then new pipes, which start only after a passing
  // pre-check (DESIGN.md section 6). The same steps as `ferry apply` (pipe/config_change.h).
  for (bool existing : {true, false}) {
    for (const auto& n : names) {
      if (static_cast<bool>(catalog->get_pipe(n)) != existing) continue;
      const PipeSpec& spec = config.pipes.at(n);
      ConfigChangeOptions change;
      change.confirm = args.confirm;
      ConfigChangeOutcome out =
          apply_pipe_config(*catalog, spec, config.peers.at(spec.source), config.peers.at(spec.destination), change);
      if (out.result != ConfigChangeOutcome::Refused) continue;
      switch (out.refused_by) {
        case ConfigChangeOutcome::DestinationSettings:
          std::cerr << "ferry: pipe " << n << " changed in " << args.config_file
                    << ", but the destination cannot honour the new settings (nothing changed): " << out.message << "\n";
          break;
        case ConfigChangeOutcome::Precheck:
          std::cout << "pre-check of new pipe " << n << ":\n" << out.precheck->to_text();
          std::cerr << "ferry: not starting pipe " << n << ": "
                    << (out.precheck->failed() ? "the pre-check failed"
                                               : "the pre-check has warnings; run again with --confirm to accept them")
                    << "\n";
          break;
        default:
          std::cerr << "ferry: the tables of pipe " << n << " changed in " << args.config_file
                    << " but cannot change now: " << out.message << "\n";
      }
      return 1;
    }
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  ProgressPrinter progress(args.progress && isatty(STDERR_FILENO));

  std::vector<PipeState> results(names.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < names.size(); ++i) {
    threads.emplace_back([&, i] {
      const PipeSpec& spec = config.pipes.at(names[i]);
      RunnerOptions opts;
      opts.stop = &g_stop;
      opts.hooks = args.hooks;
      opts.on_progress = [&, name = names[i]](const LoadProgress& p) { progress.update(name, p); };
      opts.once = args.once;  // incremental pipes: one run, then exit
      PipeRunner runner(*catalog, spec, config.peers.at(spec.source), config.peers.at(spec.destination), opts);
      results[i] = runner.run();
    });
  }
  for (auto& t : threads) t.join();

  int rc = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    auto rec = catalog->get_pipe(names[i]);
    std::cout << names[i] << ": " << (rec ? state_or_error(*rec) : "unknown") << "\n";
    if (results[i] == PipeState::Failed) rc = 1;
  }
  if (g_stop) std::cerr << "ferry: stopped; run again to continue from the checkpoint\n";
  return rc;
}

namespace {

std::string str_or(const nlohmann::json& v, const std::string& fallback = "") {
  return v.is_string() ? v.get<std::string>() : fallback;
}

void print_pipe_list(const nlohmann::json& pipes) {
  std::cout << fmt::format("{:<24} {:<14} {:<13} {}\n", "NAME", "MODE", "STATE", "ERROR");
  for (const auto& p : pipes)
    std::cout << fmt::format("{:<24} {:<14} {:<13} {}\n", str_or(p["name"]), str_or(p["mode"]), str_or(p["state"]),
                             str_or(p["error"]));
}

// The "incremental" part of a status document (incremental_status_json).
void print_incremental_status(nlohmann::json inc) {  // a copy: missing keys read as null
  if (!inc.is_object()) return;
  nlohmann::json last = inc["last_run"];
  if (last.is_object())
    std::cout << fmt::format("last run:   #{} started {}, finished {}: {} rows, {}\n", last.value("run", int64_t(0)),
                             str_or(last["started_at"], "-"), str_or(last["finished_at"], "-"),
                             last.value("rows", int64_t(0)), str_or(last["result"]));
  std::string phase = str_or(inc["phase"], "idle");
  if (phase == "waiting")
    std::cout << "now:        run #" << inc.value("run", int64_t(0)) << " waits increment_delay until "
              << str_or(inc["copy_at"], "-") << "\n";
  else if (phase != "idle")
    std::cout << "now:        run #" << inc.value("run", int64_t(0)) << " " << phase << "\n";
  std::cout << "next run:   " << str_or(inc["next_run_at"], "-") << "\n";
  if (!inc["tables"].is_array()) return;
  std::cout << "cursors:\n";
  for (nlohmann::json t : inc["tables"]) {
    std::cout << fmt::format("  {:<28} {} = {}  ({} rows last run, {} in total)\n", str_or(t["source"]),
                             str_or(t["cursor_column"]), str_or(t["cursor"], "(none yet)"),
                             t.value("rows_last_run", int64_t(0)), t.value("rows_total", int64_t(0)));
    if (t["warnings"].is_array())
      for (const auto& w : t["warnings"]) std::cout << "    warning: " << str_or(w) << "\n";
  }
}

void print_status(const nlohmann::json& j) {
  std::cout << "pipe:       " << str_or(j["name"]) << "\nmode:       " << str_or(j["mode"])
            << "\nstate:      " << str_or(j["state"]) << "\n";
  if (j["error"].is_string()) std::cout << "error:      " << j["error"].get<std::string>() << "\n";
  if (j["retry_count"].is_number() && j["retry_count"].get<int64_t>() != 0)
    std::cout << "retries:    " << j["retry_count"].get<int64_t>() << "\n";
  std::cout << "checkpoint: " << str_or(j["checkpoint"], "-") << "\n";
  if (j["lag_bytes"].is_number() || j["lag_seconds"].is_number()) {
    std::cout << "lag:        ";
    if (j["lag_bytes"].is_number()) std::cout << j["lag_bytes"].get<int64_t>() << " bytes behind the source";
    if (j["lag_seconds"].is_number())
      std::cout << (j["lag_bytes"].is_number() ? "; " : "") << "last applied commit " << str_or(j["last_commit_at"])
                << fmt::format(" ({:.1f} s ago)", j["lag_seconds"].get<double>());
    std::cout << "\n";
  }
  if (j.contains("incremental")) print_incremental_status(j["incremental"]);
}

void print_tables(const nlohmann::json& tables) {
  std::cout << fmt::format("{:<28} {:<24} {:<10} {:>11} {:>12} {:>10}  {}\n", "SOURCE", "DESTINATION", "STATE",
                           "PARTITIONS", "ROWS", "AVG/PART", "STARTED");
  for (const auto& t : tables) {
    std::cout << fmt::format("{:<28} {:<24} {:<10} {:>11} {:>12} {:>8}ms  {}\n", str_or(t["source"]),
                             str_or(t["destination"]), str_or(t["state"]),
                             fmt::format("{}/{}", t.value("partitions_done", int64_t(0)), t.value("partitions_total", int64_t(0))),
                             t.value("rows_loaded", int64_t(0)), t.value("avg_partition_ms", int64_t(0)),
                             str_or(t["load_started_at"], "-"));
    if (t.contains("unrepresentable") && t["unrepresentable"].is_object())
      for (const auto& [col, u] : t["unrepresentable"].items())
        std::cout << fmt::format("  column {}: {} value(s) the destination type cannot hold, written per "
                                 "on_unrepresentable (first: {})\n",
                                 col, u.value("count", int64_t(0)), u.value("first_value", std::string()));
    if (t.contains("last_compare") && t["last_compare"].is_object()) {
      nlohmann::json c = t["last_compare"];  // a copy: missing keys read as null
      std::string rows = c["source_rows"].is_number()
                             ? fmt::format(", rows {} / {}", c["source_rows"].get<int64_t>(),
                                           c["destination_rows"].is_number() ? c["destination_rows"].get<int64_t>() : -1)
                             : "";
      std::cout << fmt::format("  last compare: {} at {} level: {}{}, {} differing key(s), {:.2f} s\n", str_or(c["at"]),
                               str_or(c["level"]), str_or(c["outcome"]), rows, c.value("differences", int64_t(0)),
                               c.value("seconds", 0.0));
    }
  }
}

void print_history(const nlohmann::json& history) {
  for (const auto& h : history)
    std::cout << fmt::format("{}  {:<13} -> {:<13} {}\n", str_or(h["at"]), str_or(h["from"], "-"), str_or(h["to"]),
                             str_or(h["reason"]));
}

// Answers of the server: the JSON on success, the error on stderr otherwise.
int report_failure(const ApiResponse& r) {
  std::cerr << "ferry: " << r.message() << "\n";
  return exit_code_for_status(r.status);
}

// The document a query verb prints, read from the catalog file.
std::optional<nlohmann::json> query_catalog(const PipeQueryArgs& args) {
  std::unique_ptr<Catalog> catalog = open_catalog(args.catalog);
  if (args.verb == "list") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& rec : catalog->list_pipes()) out.push_back(pipe_status_json(*catalog, rec));
    return out;
  }
  auto rec = catalog->get_pipe(args.name);
  if (!rec) return std::nullopt;
  if (args.verb == "status") return pipe_status_json(*catalog, *rec);  // with "incremental" for incremental pipes
  if (args.verb == "tables") return pipe_tables_json(*catalog, rec->name);
  return pipe_history_json(*catalog, rec->name);
}

}  // namespace

int exit_code_for_status(long status) {
  if (status >= 200 && status < 300) return kExitOk;
  if (status == 404 || status == 409) return kExitRefused;
  if (status == 501) return kExitNotBuilt;
  return kExitError;
}

int query_pipes(const PipeQueryArgs& args) {
  if (args.verb != "list" && args.verb != "status" && args.verb != "tables" && args.verb != "history")
    throw config_error("unknown pipe command '" + args.verb + "'");
  nlohmann::json doc;
  if (!args.catalog.empty()) {
    auto found = query_catalog(args);
    if (!found) {
      std::cerr << "ferry: no pipe named '" << args.name << "' in the catalog " << args.catalog << "\n";
      return kExitRefused;
    }
    doc = std::move(*found);
  } else {
    ApiClient client(args.server, token_from_env());
    std::string path = "/api/v1/pipes";
    if (args.verb != "list") path += "/" + ApiClient::escape(args.name);
    if (args.verb == "tables" || args.verb == "history") path += "/" + args.verb;
    ApiResponse r = client.get(path);
    if (r.status != 200) return report_failure(r);
    doc = r.json();
  }
  if (args.output == "json") {
    std::cout << doc.dump(2) << "\n";
    return kExitOk;
  }
  if (args.verb == "list") print_pipe_list(doc);
  else if (args.verb == "status") print_status(doc);
  else if (args.verb == "tables") print_tables(doc);
  else print_history(doc);
  return kExitOk;
}

int act_on_pipe(const PipeActionArgs& args) {
  nlohmann::json body = nlohmann::json::object();
  if (!args.table.empty()) body["table"] = args.table;
  if (args.clear_destination) body["clear_destination"] = true;
  if (args.confirm) body["confirm"] = true;
  if (args.drop_destination) body["drop_destination"] = true;
  ApiClient client(args.server, token_from_env());
  ApiResponse r = client.post("/api/v1/pipes/" + ApiClient::escape(args.name) + "/" + ApiClient::escape(args.verb),
                              body.dump(), "application/json");
  int rc = exit_code_for_status(r.status);
  if (args.output == "json") {
    (rc == kExitOk ? std::cout : std::cerr) << r.json().dump(2) << "\n";
    return rc;
  }
  if (rc != kExitOk) return report_failure(r);
  nlohmann::json j = r.json();
  std::cout << args.name << ": " << r.message();
  if (j.is_object() && j["state"].is_string()) std::cout << " (state: " << j["state"].get<std::string>() << ")";
  std::cout << "\n";
  return rc;
}

int apply_config(const ApplyArgs& args) {
  std::ifstream in(args.config_file, std::ios::binary);
  if (!in) throw config_error(fmt::format("{}: cannot read the config file", args.config_file));
  std::stringstream yaml;
  yaml << in.rdbuf();
  // Checked here first (form only: the server resolves the secrets from its own environment).
  ConfigCheck check = check_config(yaml.str(), args.config_file, EnvLookup());
  if (!check.ok()) {
    std::cerr << "ferry: " << args.config_file << " has problems:\n" << format_problems(check.problems) << "\n";
    return kExitError;
  }
  ApiClient client(args.server, token_from_env());
  std::string path = "/api/v1/apply?file=" + ApiClient::escape(args.config_file) + (args.prune ? "&prune=true" : "") +
                     (args.confirm ? "&confirm=true" : "");
  ApiResponse r = client.post(path, yaml.str(), "application/yaml");
  int rc = exit_code_for_status(r.status);
  if (args.output == "json") {
    (rc == kExitOk ? std::cout : std::cerr) << r.json().dump(2) << "\n";
    return rc;
  }
  nlohmann::json j = r.json();
  if (rc != kExitOk && !(j.is_object() && j.contains("refused"))) return report_failure(r);
  for (const char* what : {"created", "updated", "removed", "unchanged"}) {
    if (!j.contains(what)) continue;
    for (const auto& name : j[what]) std::cout << fmt::format("{:<10} {}\n", what, str_or(name));
  }
  for (const auto& refused : j["refused"])
    std::cout << fmt::format("{:<10} {} (pre-check did not pass; fix the causes or accept warnings with --confirm)\n{}\n",
                             "refused", str_or(refused["pipe"]), str_or(refused["precheck"]));
  return rc;
}

int run_server(const ServerArgs& args) {
  // Signals are taken by one thread with sigtimedwait: block them before any thread starts.
  // A handler (never run: the signals stay blocked) also undoes an inherited
  // SIG_IGN, e.g. SIGINT of a background job, which would discard them.
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  ListenAddress listen = parse_listen(args.listen);
  ApiServerOptions options;
  options.listen = listen;
  if (!is_loopback(listen.host)) {
    const char* token = std::getenv(args.token_env.c_str());
    if (!token || !*token)
      throw config_error(fmt::format("refusing to listen on {} without an API token: it is not a loopback address, "
                                     "so changes need a bearer token; set the environment variable {} (see "
                                     "--token-env) or listen on 127.0.0.1",
                                     listen.to_string(), args.token_env));
    options.token = token;
  }

  std::optional<Config> config;
  if (!args.config_file.empty()) config = load_config_file(args.config_file);
  std::unique_ptr<Catalog> catalog = open_catalog(args.catalog);

  // Peers the catalog knows (from earlier applies), then the config's.
  std::map<std::string, PeerSpec> peers;
  for (const auto& [name, spec_json] : catalog->list_peers()) {
    try {
      PeerSpec p = peer_spec_from_json(spec_json);
      p.name = name;
      resolve_password(p);
      peers[name] = std::move(p);
    } catch (const std::exception& e) {
      spdlog::warn("peer {} of the catalog is not usable: {}", name, e.what());
    }
  }
  if (config)
    for (const auto& [name, peer] : config->peers) peers[name] = peer;

  PipeManager manager(*catalog, std::move(peers), args.hooks);
  ApiServer api(manager, options);
  int port = api.bind();  // fail before any pipe starts when the address is taken
  if (config) {
    ApplyResult r = manager.apply(*config, false, args.confirm);
    for (const auto& [pipe, report] : r.refused)
      spdlog::error("pipe {} not started: its pre-check did not pass (--confirm accepts warnings):\n{}", pipe, report);
    spdlog::info("{}: {} pipes created, {} updated, {} unchanged", config->file, r.created.size(), r.updated.size(),
                 r.unchanged.size());
  }
  manager.start_all();
  ListenAddress bound = listen;
  bound.port = port;
  spdlog::info("ferry server listening on http://{} ({}; catalog {})", bound.to_string(),
               options.token ? "changes need the bearer token of $" + args.token_env : "loopback only, no token needed",
               args.catalog);
  spdlog::info("console: http://{}/ (OpenAPI document: /api/v1/openapi.json)", bound.to_string());

  std::atomic<bool> served{false};
  std::atomic<int> got_signal{0};
  std::thread signal_thread([&] {
    timespec tick{0, 100 * 1000 * 1000};
    bool stopped = false;
    while (!served) {
      int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig > 0 && !got_signal) {
        got_signal = sig;
        spdlog::info("{}: stopping; pipes checkpoint their in-flight work", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      }
      if (got_signal && !stopped && api.running()) {
        api.stop();
        stopped = true;
      }
    }
  });
  bool ok = api.serve();
  served = true;
  signal_thread.join();
  manager.stop_all();
  if (!ok && !got_signal) {
    std::cerr << "ferry: the API server stopped on a socket error\n";
    return kExitError;
  }
  spdlog::info("ferry server stopped; a restart continues every pipe from its checkpoint");
  return kExitOk;
}

}  // namespace ferry::cli
