// The streaming phase of the runner (state Running for cdc modes).
#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "connectors/api/destination.h"
#include "connectors/api/source.h"
#include "core/error.h"
#include "core/log.h"
#include "pipe/change_batcher.h"
#include "pipe/runner.h"
#include "pipe/unrepresentable.h"
#include "pipe/metrics_sink.h"

namespace ferry {

std::unique_ptr<SnapshotPoint> PipeRunner::start_stream_if_needed(bool with_snapshot) {
  if (catalog_.checkpoint(pipe_.name, "")) return nullptr;
  // A slot without a checkpoint was created by a run that crashed before
  // recording it: nothing was loaded or streamed from it, so start over.
  if (source_->stream_exists(pipe_.name)) {
    spdlog::warn("pipe {}: dropping a stream start that was never checkpointed", pipe_.name);
    source_->drop_stream(pipe_.name);
    std::vector<std::string> sources;
    for (const auto& m : pipe_.tables) sources.push_back(m.source);
    source_->prepare_stream(pipe_.name, sources);
  }
  uint64_t position = 0;
  std::unique_ptr<SnapshotPoint> point = source_->create_stream(pipe_.name, with_snapshot, position,
                                                                  pipe_.settings.snapshot_parallelism);
  // A new stream's positions owe nothing to a stored one (a reset, a recreated pipe).
  if (!destination_) destination_ = make_destination(destination_peer_);
  if (destination_->capabilities().holds_checkpoint) destination_->clear_checkpoint(pipe_.name);
  // Durable before any data is read at this point.
  catalog_.commit_checkpoint(pipe_.name, "", source_->format_position(position));
  spdlog::info("pipe {}: change stream starts at {}", pipe_.name, source_->format_position(position));
  return point;
}

// Sources without server-side publications (MariaDB) learn a stream's tables only from
// prepare_stream, and a restarted process opens its stream without passing Setup.
void PipeRunner::prepare_stream_tables() {
  std::vector<std::string> sources;
  for (const auto& m : pipe_.tables) sources.push_back(m.source);
  source_->prepare_stream(pipe_.name, sources);
}

void PipeRunner::stream_changes(const StreamLimits& limits) {
  if (!source_) source_ = make_source(source_peer_);
  if (!destination_) destination_ = make_destination(destination_peer_);
  auto cp = catalog_.checkpoint(pipe_.name, "");
  if (!cp) throw Error(ErrorKind::Permanent, "internal error: streaming pipe without a checkpoint");
  uint64_t checkpointed = source_->parse_position(*cp);
  const bool holds_checkpoint = destination_->capabilities().holds_checkpoint;
  if (holds_checkpoint) {
    // The destination committed batches the catalog did not record (a crash between the two
    // writes): the catalog follows the destination, and those changes are not applied again.
    uint64_t stored = destination_->stored_checkpoint(pipe_.name);
    if (stored > checkpointed) {
      spdlog::warn("pipe {}: the destination already holds changes up to {} (catalog checkpoint {}): skipping them",
                   pipe_.name, source_->format_position(stored), *cp);
      catalog_.commit_checkpoint(pipe_.name, "", source_->format_position(stored));
      checkpointed = stored;
      cp = source_->format_position(stored);
    }
  }
  prepare_stream_tables();
  std::unique_ptr<ChangeStream> stream = source_->open_stream(pipe_.name, checkpointed);
  spdlog::info("pipe {}: streaming changes from {}", pipe_.name, *cp);

  ChangeBatcher batcher(pipe_, source_->default_schema());
  ChangeEvent ev;
  const auto interval = std::chrono::milliseconds(pipe_.settings.sync_interval);
  auto last_flush = std::chrono::steady_clock::now();
  auto last_lag = last_flush - std::chrono::hours(1);
  int64_t applied_rows = 0;

  // Grows by best_effort after a permanent apply error. The batcher holds no rows of
  // these tables; the changes of tables it left out are dropped as they arrive.
  std::set<std::string> left_out = limits.skip;
  batcher.leave_out(left_out);
  bool excluded = false;
  // Applies the batch; metrics count what was written.
  auto apply = [&] {
    const ChangeBatch& batch = batcher.batch();
    if (batch.rows.empty()) return;
    if (holds_checkpoint)
      destination_->apply_changes_checkpointed(batch, pipe_.name, std::max(batcher.safe_position(), checkpointed));
    else
      destination_->apply_changes(batch);
    record_cdc_batch(metrics(), pipe_.name, batch);
    record_unrepresentable(catalog_, pipe_, destination_->take_unrepresentable());
  };
  auto apply_or_leave_out = [&] {
    try {
      apply();
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Permanent || excluded || limits.best_effort.empty()) throw;
      spdlog::warn("pipe {}: changes cannot be applied to the tables being rebuilt ({}); they stay as they are until "
                   "their rebuilt copies replace them", pipe_.name, e.what());
      excluded = true;
      left_out.insert(limits.best_effort.begin(), limits.best_effort.end());
      batcher.leave_out(left_out);
      destination_.reset();  // its state after the failed insert is unknown
      destination_ = make_destination(destination_peer_);
      apply();
    }
  };
  auto flush = [&] {
    size_t applied_now = batcher.rows();
    if (batcher.rows() > 0) {
      apply_or_leave_out();
      applied_rows += static_cast<int64_t>(batcher.rows());
      batcher.clear();
    }
    // The checkpoint moves only after the destination accepted everything before it.
    uint64_t safe = batcher.safe_position();
    if (safe > checkpointed) {
      if (holds_checkpoint) {
        if (applied_now == 0) destination_->apply_changes_checkpointed(batcher.batch(), pipe_.name, safe);
        else crash_point("cdc-destination-committed");  // tests: the catalog write below never happens
      }
      catalog_.commit_checkpoint(pipe_.name, "", source_->format_position(safe));
      if (batcher.last_commit_time_ms())
        catalog_.put_meta(pipe_.name, "last_commit_time_ms", std::to_string(batcher.last_commit_time_ms()));
      checkpointed = safe;
    }
    stream->acknowledge(std::min(checkpointed, limits.confirm_at_most));
    auto now = std::chrono::steady_clock::now();
    last_flush = now;
    if (now - last_lag >= std::chrono::seconds(5)) {
      catalog_.put_meta(pipe_.name, "lag_bytes", std::to_string(source_->stream_lag_bytes(pipe_.name)));
      catalog_.put_meta(pipe_.name, "applied_at_ms", std::to_string(to_epoch_ms(options_.clock->now())));
      last_lag = now;
    }
  };

  // A destination that holds the checkpoint applies whole source transactions: rows of an
  // unfinished one would be applied again by the replay after a crash (the stored position
  // is before it), which duplicates rows of keyless tables, and readers would see half a
  // transaction. Only a transaction too big to hold is cut (keyed tables still converge).
  auto may_flush = [&] {
    return !holds_checkpoint || !batcher.in_transaction() ||
           batcher.batch().arena.size() >= 2 * ChangeBatcher::kMaxArenaBytes;
  };
  while (!stopping() && !(limits.until && limits.until())) {
    auto since = std::chrono::steady_clock::now() - last_flush;
    auto wait = since >= interval ? std::chrono::milliseconds(0)
                                  : std::chrono::duration_cast<std::chrono::milliseconds>(interval - since);
    // A flush due but waiting for a commit: wait for the stream instead of spinning.
    if (wait.count() == 0 && holds_checkpoint && batcher.in_transaction()) wait = std::chrono::milliseconds(50);
    if (stream->next(ev, wait)) {
      if (ev.kind == ChangeEvent::Kind::Relation) {
        if (const TableMapping* m = batcher.mapping_for(*ev.relation)) {
          if (batcher.layout_changes(*ev.relation)) flush();
          // A column added at the source appears at the destination before rows carry it.
          TableSchema projected = project_table(source_->describe(m->source), *m);
          std::string name = destination_table_name(*m);
          if (!left_out.count(name)) {
            try {
              destination_->add_missing_columns(projected, destination_table(pipe_, *m, name));
            } catch (const Error& e) {
              if (e.kind() != ErrorKind::Permanent || !limits.best_effort.count(name)) throw;
              spdlog::warn("pipe {}: {} cannot take the source's new columns ({}); it stays as it is until its "
                           "rebuilt copy replaces it", pipe_.name, name, e.what());
              excluded = true;
              left_out.insert(limits.best_effort.begin(), limits.best_effort.end());
              batcher.leave_out(left_out);
            }
          }
        }
      }
      batcher.add(ev);
      if (batcher.full(pipe_.settings.batch_size) && may_flush()) flush();
    }
    if (std::chrono::steady_clock::now() - last_flush >= interval && may_flush()) flush();
  }
  // Stopping: the in-flight batch is applied and checkpointed (inside a transaction at a
  // checkpoint-holding destination it is left to the replay from the checkpoint instead).
  if (may_flush()) flush();
  spdlog::info("pipe {}: stream stopped at {} ({} rows applied)", pipe_.name, source_->format_position(checkpointed),
               applied_rows);
}

bool PipeRunner::publish_changes_until(const SnapshotPoint& point, const std::vector<TableMapping>& tables) {
  uint64_t from = source_->parse_position(*catalog_.checkpoint(pipe_.name, ""));
  uint64_t at = point.position();
  if (at <= from) return true;
  catch_up(tables, from, at, /*stop_before_later=*/true);
  if (stopping()) return false;
  catalog_.commit_checkpoint(pipe_.name, "", source_->format_position(at));
  return true;
}

void PipeRunner::catch_up(const std::vector<TableMapping>& tables, uint64_t from, uint64_t until,
                          bool stop_before_later) {
  if (until <= from) return;
  PipeSpec spec = pipe_;  // the batcher ignores the other tables' changes
  spec.tables = tables;
  auto dest = make_destination(destination_peer_);
  std::string names;
  for (const auto& m : spec.tables) {
    // Tells the destination the table's source schema (the table exists).
    dest->ensure_table(project_table(source_->describe(m.source), m), destination_table(pipe_, m));
    names += (names.empty() ? "" : ", ") + destination_table_name(m);
  }
  spdlog::info("pipe {}: replaying changes {}..{} into {}", pipe_.name, source_->format_position(from),
               source_->format_position(until), names);
  ChangeBatcher batcher(spec, source_->default_schema());
  prepare_stream_tables();
  auto stream = source_->open_stream(pipe_.name, from);
  size_t applied = 0;
  auto flush = [&] {
    if (batcher.rows() == 0) return;
    dest->apply_changes(batcher.batch());
    record_cdc_batch(metrics(), pipe_.name, batcher.batch());
    record_unrepresentable(catalog_, pipe_, dest->take_unrepresentable());
    applied += batcher.rows();
    batcher.clear();
  };
  ChangeEvent ev;
  while (!stopping()) {
    if (stream->next(ev, std::chrono::milliseconds(200))) {
      if (stop_before_later && ev.kind == ChangeEvent::Kind::Begin && ev.version > until) break;
      if (stop_before_later && ev.kind == ChangeEvent::Kind::Heartbeat && ev.position >= until &&
          !batcher.in_transaction())
        break;
      if (ev.kind == ChangeEvent::Kind::Relation) {
        if (const TableMapping* m = batcher.mapping_for(*ev.relation)) {
          if (batcher.layout_changes(*ev.relation)) flush();
          dest->add_missing_columns(project_table(source_->describe(m->source), *m),
                                    destination_table(pipe_, *m));
        }
      }
      batcher.add(ev);
      if (batcher.full(pipe_.settings.batch_size)) flush();
    } else {
      stream->request_heartbeat();  // idle: learn how far the source has sent
    }
    if (!batcher.in_transaction() && batcher.safe_position() >= until) break;
  }
  flush();
  spdlog::info("pipe {}: catch-up replayed {} changes", pipe_.name, applied);
}

}  // namespace ferry
