// Runs the pipes of one process (`ferry server`) and carries out user
// actions on them. Every state change still happens inside a PipeRunner; the
// manager only starts, signals and stops runners, so one pipe's failure
// never touches another.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "pipe/compare.h"
#include "pipe/lifecycle.h"
#include "core/spec.h"
#include "server/metrics.h"

namespace ferry {

class PipeRunner;
struct TestHooks;

struct ActionRequest {
  PipeAction action = PipeAction::Pause;
  std::string table;               // resync --table
  bool clear_destination = false;  // reset
  bool confirm = false;            // reset: accept pre-check warnings
  bool drop_destination = false;   // delete
};

struct ActionResult {
  int status = 200;      // HTTP-like: 200 done, 202 accepted, 404 unknown pipe, 409 refused, 501 not built
  std::string message;   // what happened, or why it was refused
  std::optional<PipeState> state;
};

struct CompareRequest {
  std::string table;  // source or destination name; empty: every table of the pipe
  CompareLevel level = CompareLevel::Content;
  size_t limit = 0;   // differing keys listed per table; 0: the default
};

struct CompareResult {
  // 200 done, 404 unknown pipe or table, 409 this pipe is being compared already,
  // 422 the pipe's source/destination pair cannot be compared, 429 too many comparisons
  // at once, 502 a database failed
  int status = 200;
  std::string message;  // why not, when status != 200
  std::vector<TableComparison> tables;
};

struct ApplyResult {
  std::vector<std::string> created, updated, removed, unchanged;
  // New pipes whose pre-check did not pass (not created): pipe -> the report as text.
  std::vector<std::pair<std::string, std::string>> refused;
};

class PipeManager {
 public:
  // `hooks` (may be null; not owned, must outlive the manager): handed to every
  // runner (core/test_hooks.h).
  PipeManager(Catalog& catalog, std::map<std::string, PeerSpec> peers, const TestHooks* hooks = nullptr);
  ~PipeManager();

  // Registers the config's peers and pipes, each pipe through
  // apply_pipe_config (pipe/config_change.h): new pipes are pre-checked, then
  // created and started (refused below 100%, or with warnings unless
  // `confirm`); pipes whose spec changed get the new spec (used on their next
  // start; a table change stops the runner, changes the tables and starts it
  // again unless Paused); with `remove_missing`, pipes absent from the config
  // are deleted.
  ApplyResult apply(const Config& config, bool remove_missing, bool confirm = false);

  // Starts a runner for every pipe of the catalog that has work to do, each
  // continuing from its recorded state and checkpoint.
  void start_all();
  // Stops every runner after its in-flight work is checkpointed (SIGTERM).
  void stop_all();

  ActionResult act(const std::string& pipe, const ActionRequest& request);

  // Runs the pre-check of an existing pipe against the real servers; nullopt
  // when there is no such pipe.
  std::optional<struct PrecheckReport> check(const std::string& pipe);

  // Compares the pipe's tables with their source (pipe/compare.h) on the calling thread,
  // with connections of its own: the pipe's runner and other requests go on meanwhile.
  // One comparison per pipe at a time, at most kMaxComparisons in the process (each holds
  // an HTTP worker thread). Each table's result is stored as its last comparison
  // (pipe/compare_record.h).
  CompareResult compare(const std::string& pipe, const CompareRequest& request);
  static constexpr size_t kMaxComparisons = 2;

  Catalog& catalog() { return catalog_; }
  // The counters of this manager's runners (thread-safe; see server/metrics.h).
  const Metrics& metrics() const { return metrics_; }
  bool running(const std::string& pipe);

 private:
  struct Worker {
    std::unique_ptr<PipeRunner> runner;
    std::atomic<bool> stop{false};
    std::atomic<bool> done{false};
    std::thread thread;
  };
  // Callers hold mu_.
  void start_locked(const std::string& pipe, bool resume);
  void stop_locked(const std::string& pipe);
  // Starts the worker's thread running its runner (no runner may be registered for `pipe`).
  void launch_locked(const std::string& pipe, std::unique_ptr<Worker> worker);
  std::optional<PipeSpec> spec_of(const std::string& pipe);
  std::unique_ptr<PipeRunner> make_runner(const PipeSpec& spec, std::atomic<bool>* stop);

  Catalog& catalog_;
  std::map<std::string, PeerSpec> peers_;
  const TestHooks* hooks_;
  Metrics metrics_;  // declared before workers_: outlives every runner
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Worker>> workers_;
  std::mutex compare_mu_;             // guards comparing_ only (never held while comparing)
  std::set<std::string> comparing_;   // pipes being compared now
};

}  // namespace ferry
