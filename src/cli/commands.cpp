#include "cli/commands.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "pipe/config.h"
#include "pipe/runner.h"

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

int run_pipes(const RunArgs& args) {
  Config config = load_config_file(args.config_file);
  std::vector<std::string> names = args.pipes.empty() ? config.pipe_order : args.pipes;
  for (const auto& n : names)
    if (!config.pipes.count(n)) throw config_error(fmt::format("{}: no pipe named '{}'", args.config_file, n));
  if (names.empty()) throw config_error(args.config_file + ": no pipes to run");

  std::unique_ptr<Catalog> catalog = open_catalog(args.catalog);
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
      opts.on_progress = [&, name = names[i]](const LoadProgress& p) { progress.update(name, p); };
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

nlohmann::json status_json(Catalog& catalog, const PipeRecord& rec) {
  nlohmann::json spec = nlohmann::json::parse(rec.spec_json, nullptr, false);
  nlohmann::json j;
  j["name"] = rec.name;
  j["state"] = to_string(rec.state);
  j["mode"] = spec.is_object() && spec.contains("mode") ? spec["mode"] : nlohmann::json();
  j["error"] = rec.last_error.empty() ? nlohmann::json() : nlohmann::json(rec.last_error);
  j["retry_count"] = rec.retry_count;
  auto cp = catalog.checkpoint(rec.name, "");
  j["checkpoint"] = cp ? nlohmann::json(*cp) : nlohmann::json();
  // Streaming lag, as last recorded by the runner.
  auto lag_bytes = catalog.get_meta(rec.name, "lag_bytes");
  auto last_commit = catalog.get_meta(rec.name, "last_commit_time_ms");
  j["lag_bytes"] = lag_bytes ? nlohmann::json(std::stoll(*lag_bytes)) : nlohmann::json();
  j["last_commit_at"] = last_commit ? nlohmann::json(format_time_utc(std::stoll(*last_commit))) : nlohmann::json();
  j["lag_seconds"] = last_commit ? nlohmann::json((to_epoch_ms(Clock::system().now()) - std::stoll(*last_commit)) / 1000.0)
                                 : nlohmann::json();
  j["tables"] = nlohmann::json::array();
  for (const auto& t : catalog.tables(rec.name)) {
    nlohmann::json tj;
    tj["source"] = t.source;
    tj["destination"] = t.destination;
    tj["state"] = t.state;
    tj["rows_loaded"] = t.rows_loaded;
    tj["partitions_total"] = t.partitions_total;
    tj["partitions_done"] = t.partitions_done;
    tj["avg_partition_ms"] = t.partitions_done ? t.partition_ms_total / t.partitions_done : 0;
    tj["load_started_at"] = t.load_started_at_ms ? nlohmann::json(format_time_utc(t.load_started_at_ms)) : nlohmann::json();
    tj["load_finished_at"] = t.load_finished_at_ms ? nlohmann::json(format_time_utc(t.load_finished_at_ms)) : nlohmann::json();
    j["tables"].push_back(tj);
  }
  return j;
}

PipeRecord require_pipe(Catalog& catalog, const std::string& name) {
  auto rec = catalog.get_pipe(name);
  if (!rec) throw config_error(fmt::format("no pipe named '{}' in the catalog", name));
  return *rec;
}

}  // namespace

int query_pipes(const PipeQueryArgs& args) {
  if (args.catalog.empty()) return not_built("talking to a ferry server (use --catalog PATH to read a catalog directly)");
  std::unique_ptr<Catalog> catalog = open_catalog(args.catalog);
  bool json = args.output == "json";
  if (args.verb == "list") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& rec : catalog->list_pipes()) out.push_back(status_json(*catalog, rec));
    if (json) {
      std::cout << out.dump(2) << "\n";
    } else {
      std::cout << fmt::format("{:<24} {:<14} {:<13} {}\n", "NAME", "MODE", "STATE", "ERROR");
      for (const auto& p : out)
        std::cout << fmt::format("{:<24} {:<14} {:<13} {}\n", p["name"].get<std::string>(),
                                 p["mode"].is_string() ? p["mode"].get<std::string>() : "",
                                 p["state"].get<std::string>(), p["error"].is_string() ? p["error"].get<std::string>() : "");
    }
    return 0;
  }
  PipeRecord rec = require_pipe(*catalog, args.name);
  if (args.verb == "status") {
    nlohmann::json j = status_json(*catalog, rec);
    if (json) {
      std::cout << j.dump(2) << "\n";
    } else {
      std::cout << "pipe:       " << rec.name << "\nmode:       " << (j["mode"].is_string() ? j["mode"].get<std::string>() : "")
                << "\nstate:      " << to_string(rec.state) << "\n";
      if (!rec.last_error.empty()) std::cout << "error:      " << rec.last_error << "\n";
      if (rec.retry_count) std::cout << "retries:    " << rec.retry_count << "\n";
      std::cout << "checkpoint: " << (j["checkpoint"].is_string() ? j["checkpoint"].get<std::string>() : "-") << "\n";
      if (j["lag_bytes"].is_number())
        std::cout << "lag:        " << j["lag_bytes"].get<int64_t>() << " bytes behind the source; last applied commit "
                  << j["last_commit_at"].get<std::string>() << fmt::format(" ({:.1f} s ago)", j["lag_seconds"].get<double>())
                  << "\n";
    }
    return 0;
  }
  if (args.verb == "tables") {
    nlohmann::json tables = status_json(*catalog, rec)["tables"];
    if (json) {
      std::cout << tables.dump(2) << "\n";
      return 0;
    }
    std::cout << fmt::format("{:<28} {:<24} {:<10} {:>11} {:>12} {:>10}  {}\n", "SOURCE", "DESTINATION", "STATE",
                             "PARTITIONS", "ROWS", "AVG/PART", "STARTED");
    for (const auto& t : tables)
      std::cout << fmt::format("{:<28} {:<24} {:<10} {:>11} {:>12} {:>8}ms  {}\n", t["source"].get<std::string>(),
                               t["destination"].get<std::string>(), t["state"].get<std::string>(),
                               fmt::format("{}/{}", t["partitions_done"].get<int64_t>(), t["partitions_total"].get<int64_t>()),
                               t["rows_loaded"].get<int64_t>(), t["avg_partition_ms"].get<int64_t>(),
                               t["load_started_at"].is_string() ? t["load_started_at"].get<std::string>() : "-");
    return 0;
  }
  if (args.verb == "history") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& h : catalog->history(rec.name)) {
      out.push_back({{"at", format_time_utc(h.at_ms)},
                     {"from", h.from ? nlohmann::json(to_string(*h.from)) : nlohmann::json()},
                     {"to", to_string(h.to)},
                     {"reason", h.reason}});
    }
    if (json) {
      std::cout << out.dump(2) << "\n";
    } else {
      for (const auto& h : out)
        std::cout << fmt::format("{}  {:<13} -> {:<13} {}\n", h["at"].get<std::string>(),
                                 h["from"].is_string() ? h["from"].get<std::string>() : "-", h["to"].get<std::string>(),
                                 h["reason"].get<std::string>());
    }
    return 0;
  }
  throw config_error("unknown pipe command '" + args.verb + "'");
}

}  // namespace ferry::cli
