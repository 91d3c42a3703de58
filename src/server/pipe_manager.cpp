#include "server/pipe_manager.h"

#include <algorithm>

#include <fmt/format.h>

#include "connectors/api/destination.h"
#include "connectors/api/source.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/test_hooks.h"
#include "pipe/config.h"
#include "pipe/compare_record.h"
#include "pipe/config_change.h"
#include "pipe/keyless_staging.h"
#include "pipe/precheck.h"
#include "pipe/resync.h"
#include "pipe/runner.h"
#include "pipe/spec_json.h"

namespace ferry {

PipeManager::PipeManager(Catalog& catalog, std::map<std::string, PeerSpec> peers, const TestHooks* hooks)
    : catalog_(catalog), peers_(std::move(peers)), hooks_(hooks) {}

PipeManager::~PipeManager() { stop_all(); }

std::optional<PipeSpec> PipeManager::spec_of(const std::string& pipe) {
  auto rec = catalog_.get_pipe(pipe);
  if (!rec) return std::nullopt;
  return pipe_spec_from_json(rec->spec_json);
}

std::unique_ptr<PipeRunner> PipeManager::make_runner(const PipeSpec& spec, std::atomic<bool>* stop) {
  auto src = peers_.find(spec.source);
  auto dst = peers_.find(spec.destination);
  if (src == peers_.end() || dst == peers_.end())
    throw Error(ErrorKind::Config, fmt::format("pipe '{}' refers to peer '{}' or '{}' that this server does not know",
                                               spec.name, spec.source, spec.destination));
  RunnerOptions opts;
  opts.stop = stop;
  opts.metrics = &metrics_;
  opts.hooks = hooks_;
  return std::make_unique<PipeRunner>(catalog_, spec, src->second, dst->second, opts);
}

bool PipeManager::running(const std::string& pipe) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = workers_.find(pipe);
  return it != workers_.end() && !it->second->done;
}

void PipeManager::start_locked(const std::string& pipe, bool resume) {
  auto it = workers_.find(pipe);
  if (it != workers_.end()) {
    if (!it->second->done) return;  // already running
    if (it->second->thread.joinable()) it->second->thread.join();
    workers_.erase(it);
  }
  std::optional<PipeSpec> spec = spec_of(pipe);
  if (!spec) return;
  auto worker = std::make_unique<Worker>();
  worker->runner = make_runner(*spec, &worker->stop);
  if (resume) {
    ActionOutcome out = worker->runner->resume();
    if (auto* r = std::get_if<Refusal>(&out)) throw Error(ErrorKind::Config, r->message);
  }
  launch_locked(pipe, std::move(worker));
}

void PipeManager::launch_locked(const std::string& pipe, std::unique_ptr<Worker> worker) {
  Worker* w = worker.get();
  w->thread = std::thread([w, pipe] {
    try {
      w->runner->run();
    } catch (const std::exception& e) {
      spdlog::error("pipe {}: runner stopped: {}", pipe, e.what());
    }
    w->done = true;
  });
  workers_[pipe] = std::move(worker);
}

void PipeManager::stop_locked(const std::string& pipe) {
  auto it = workers_.find(pipe);
  if (it == workers_.end()) return;
  it->second->stop = true;
  if (it->second->thread.joinable()) it->second->thread.join();
  workers_.erase(it);
}

void PipeManager::start_all() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& rec : catalog_.list_pipes()) {
    if (rec.state == PipeState::Paused || rec.state == PipeState::Failed || rec.state == PipeState::Completed) continue;
    try {
      start_locked(rec.name, false);
    } catch (const std::exception& e) {
      spdlog::error("pipe {}: cannot start: {}", rec.name, e.what());
    }
  }
}

void PipeManager::stop_all() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, w] : workers_) w->stop = true;
  for (auto& [name, w] : workers_)
    if (w->thread.joinable()) w->thread.join();
  workers_.clear();
}

ApplyResult PipeManager::apply(const Config& config, bool remove_missing, bool confirm) {
  ApplyResult result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, peer] : config.peers) {
      peers_[name] = peer;
      catalog_.upsert_peer(name, to_string(peer.type), peer_spec_to_json(peer));
    }
  }
  for (const auto& name : config.pipe_order) {
    const PipeSpec& spec = config.pipes.at(name);
    std::unique_lock<std::mutex> lock(mu_, std::defer_lock);
    bool stopped = false;
    ConfigChangeOptions change;
    change.confirm = confirm;
    change.created_reason = "pipe created by apply";
    change.before_table_change = [&] {
      // Table changes: the running work is stopped and checkpointed first, and no action
      // may start it again until the change is made.
      lock.lock();
      stop_locked(name);
      stopped = true;
    };
    ConfigChangeOutcome out;
    try {
      out = apply_pipe_config(catalog_, spec, config.peers.at(spec.source), config.peers.at(spec.destination), change);
    } catch (const std::exception& e) {
      if (!stopped) throw;
      result.refused.emplace_back(name, std::string("changing tables failed: ") + e.what());
      continue;  // stays stopped: its next start finishes the change (the new spec is stored)
    }
    switch (out.result) {
      case ConfigChangeOutcome::Created:
        lock.lock();
        result.created.push_back(name);
        start_locked(name, false);
        break;
      case ConfigChangeOutcome::Updated: result.updated.push_back(name); break;
      case ConfigChangeOutcome::Unchanged: result.unchanged.push_back(name); break;
      case ConfigChangeOutcome::Refused:
        if (out.refused_by == ConfigChangeOutcome::Precheck) {
          spdlog::warn("pipe {} not created: pre-check at {}%", name, static_cast<int>(out.precheck->success_rate()));
          result.refused.emplace_back(name, out.precheck->to_text());
        } else if (out.refused_by == ConfigChangeOutcome::DestinationSettings) {
          result.refused.emplace_back(name, "the destination cannot honour the new settings: " + out.message);
        } else {
          result.refused.emplace_back(name, out.message);
        }
        break;
    }
    if (stopped) {  // back to work; a Paused pipe waits for resume
      auto rec = catalog_.get_pipe(name);
      if (rec && rec->state != PipeState::Paused && rec->state != PipeState::Failed &&
          rec->state != PipeState::Completed)
        start_locked(name, false);
    }
  }
  if (remove_missing) {
    for (const auto& rec : catalog_.list_pipes()) {
      if (config.pipes.count(rec.name)) continue;
      ActionRequest del;
      del.action = PipeAction::Delete;
      act(rec.name, del);
      result.removed.push_back(rec.name);
    }
  }
  return result;
}

ActionResult PipeManager::act(const std::string& pipe, const ActionRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rec = catalog_.get_pipe(pipe);
  if (!rec) return {404, fmt::format("no pipe named '{}'", pipe), std::nullopt};
  PipeSpec spec = pipe_spec_from_json(rec->spec_json);
  if (!action_allowed(request.action, rec->state)) {
    auto out = apply_action(request.action, rec->state, spec.mode);
    return {409, std::get<Refusal>(out).message, rec->state};
  }
  switch (request.action) {
    case PipeAction::Pause: {
      auto it = workers_.find(pipe);
      if (it == workers_.end() || it->second->done)
        return {409, fmt::format("pipe '{}' is {} but no runner is working on it", pipe, to_string(rec->state)), rec->state};
      ActionOutcome out = it->second->runner->request_pause();
      if (auto* r = std::get_if<Refusal>(&out)) return {409, r->message, rec->state};
      return {202, "pausing: the in-flight work is finished and checkpointed, then the pipe is Paused", PipeState::Pausing};
    }
    case PipeAction::Resume: {
      stop_locked(pipe);  // a finished runner may still be registered
      start_locked(pipe, true);
      auto now = catalog_.get_pipe(pipe);
      return {202, "resumed from the checkpoint", now ? std::optional(now->state) : std::nullopt};
    }
    case PipeAction::Reset: {
      stop_locked(pipe);  // a finished runner may still be registered
      auto worker = std::make_unique<Worker>();
      worker->runner = make_runner(spec, &worker->stop);
      ActionOutcome out;
      try {
        out = worker->runner->reset(request.clear_destination, request.confirm);
      } catch (const std::exception& e) {
        return {502, fmt::format("reset of pipe '{}' failed: {}", pipe, e.what()), rec->state};
      }
      if (auto* r = std::get_if<Refusal>(&out)) return {409, r->message, rec->state};
      launch_locked(pipe, std::move(worker));
      auto now = catalog_.get_pipe(pipe);
      return {202,
              request.clear_destination ? "reset: destination tables cleared; the pipe runs its mode from the start"
                                        : "reset: the pipe runs its mode from the start",
              now ? std::optional(now->state) : std::nullopt};
    }
    case PipeAction::Resync: {
      stop_locked(pipe);  // a running pipe finishes and checkpoints its in-flight batch first
      auto worker = std::make_unique<Worker>();
      worker->runner = make_runner(spec, &worker->stop);
      ActionOutcome out;
      try {
        out = worker->runner->resync(request.table);
      } catch (const std::exception& e) {
        start_locked(pipe, false);  // the pipe goes on as it was
        return {502, fmt::format("resync of pipe '{}' failed: {}", pipe, e.what()), rec->state};
      }
      if (auto* r = std::get_if<Refusal>(&out)) {
        start_locked(pipe, false);
        return {409, r->message, rec->state};
      }
      launch_locked(pipe, std::move(worker));
      auto now = catalog_.get_pipe(pipe);
      return {202,
              request.table.empty() ? "resync: every table is rebuilt into _resync tables and swapped in"
                                    : "resync: table " + request.table + " is rebuilt and swapped in",
              now ? std::optional(now->state) : std::nullopt};
    }
    case PipeAction::Delete: {
      stop_locked(pipe);
      std::string note;
      try {
        if (mode_streams(spec.mode)) make_source(peers_.at(spec.source))->drop_stream(pipe);
        if (request.drop_destination) {
          auto dest = make_destination(peers_.at(spec.destination));
          for (const auto& t : spec.tables) {
            std::string name = destination_table_name(t);
            // With the copies an unfinished reset, load or resync may have left.
            for (const auto& n : {name, resync_table_name(name), staging_table_name(name), old_table_name(name)})
              dest->drop_table(n);
          }
          note = "; destination tables dropped";
        }
      } catch (const std::exception& e) {
        return {502, fmt::format("pipe '{}' was stopped but not deleted: cleaning up failed: {}", pipe, e.what()),
                rec->state};
      }
      catalog_.delete_pipe(pipe);
      return {200, fmt::format("pipe '{}' deleted{}", pipe, note), std::nullopt};
    }
    default:
      return {501, fmt::format("{} is not built yet in this version of ferry", to_string(request.action)), rec->state};
  }
}

std::optional<PrecheckReport> PipeManager::check(const std::string& pipe) {
  std::optional<PipeSpec> spec;
  PeerSpec source, destination;
  {
    std::lock_guard<std::mutex> lock(mu_);
    spec = spec_of(pipe);
    if (!spec) return std::nullopt;
    auto src = peers_.find(spec->source);
    auto dst = peers_.find(spec->destination);
    if (src == peers_.end() || dst == peers_.end())
      throw Error(ErrorKind::Config, fmt::format("pipe '{}' refers to peer '{}' or '{}' that this server does not know",
                                                 pipe, spec->source, spec->destination));
    source = src->second;
    destination = dst->second;
  }
  // Outside the lock: the checks talk to both servers.
  return run_precheck(*spec, source, destination, /*new_pipe=*/false);
}

CompareResult PipeManager::compare(const std::string& pipe, const CompareRequest& request) {
  std::optional<PipeSpec> spec;
  PeerSpec source, destination;
  {
    std::lock_guard<std::mutex> lock(mu_);
    spec = spec_of(pipe);
    if (!spec) return {404, fmt::format("no pipe named '{}'", pipe), {}};
    auto src = peers_.find(spec->source);
    auto dst = peers_.find(spec->destination);
    if (src == peers_.end() || dst == peers_.end())
      return {422, fmt::format("pipe '{}' refers to peer '{}' or '{}' that this server does not know", pipe,
                               spec->source, spec->destination), {}};
    source = src->second;
    destination = dst->second;
  }
  {
    std::lock_guard<std::mutex> lock(compare_mu_);
    if (comparing_.count(pipe))
      return {409, fmt::format("pipe '{}' is being compared already; ask again when that comparison answered", pipe), {}};
    if (comparing_.size() >= kMaxComparisons)
      return {429, fmt::format("{} comparisons are running (the most this server runs at once); ask again later",
                               comparing_.size()), {}};
    comparing_.insert(pipe);
  }
  struct Done {
    PipeManager& m;
    const std::string& pipe;
    ~Done() {
      std::lock_guard<std::mutex> lock(m.compare_mu_);
      m.comparing_.erase(pipe);
    }
  } done{*this, pipe};
  // After the busy check, so that a request for another table is refused while one runs.
  if (!request.table.empty()) {
    bool known = std::any_of(spec->tables.begin(), spec->tables.end(), [&](const TableMapping& m) {
      return m.source == request.table || destination_table_name(m) == request.table;
    });
    if (!known) return {404, fmt::format("pipe '{}' has no table named '{}'", pipe, request.table), {}};
  }
  if (hooks_) hooks_->hold_point("compare");

  CompareOptions options = compare_options_for(*spec, request.level);
  if (request.limit > 0) options.key_limit = request.limit;
  CompareResult result;
  try {
    result.tables = compare_pipe(*spec, source, destination, options, request.table);
  } catch (const Error& e) {
    spdlog::warn("pipe {}: compare failed: {}", pipe, e.what());
    return {e.kind() == ErrorKind::Config ? 422 : 502, fmt::format("comparing pipe '{}' failed: {}", pipe, e.what()), {}};
  }
  record_comparisons(catalog_, pipe, request.level, result.tables, to_epoch_ms(Clock::system().now()));
  return result;
}

}  // namespace ferry
