#include "cdc_support.h"

#include <random>

#include <fmt/format.h>

#include "core/ident.h"
#include "../shared/pipe_spec.h"

namespace ferry::test {

PipeSpec pg_to_ch_pipe(const std::string& name, const std::vector<std::string>& tables, PipeMode mode) {
  PipeSpec p = pipe_spec(name, mode, tables);
  p.settings.snapshot_parallelism = 2;
  p.settings.snapshot_rows_per_partition = 5000;
  p.settings.sync_interval = Millis(200);
  p.settings.batch_size = 10000;
  p.settings.max_retries = 0;
  return p;
}

BackgroundPipe::BackgroundPipe(Sandbox& sb, Catalog& catalog, const PipeSpec& pipe, const TestHooks* hooks)
    : BackgroundPipe(sb, catalog, pipe, sb.pg_peer(), hooks) {}

BackgroundPipe::BackgroundPipe(Sandbox& sb, Catalog& catalog, const PipeSpec& pipe, const PeerSpec& source,
                               const TestHooks* hooks)
    : BackgroundPipe(catalog, pipe, source, sb.ch_peer(), hooks) {}

BackgroundPipe::BackgroundPipe(Catalog& catalog, const PipeSpec& pipe, const PeerSpec& source,
                               const PeerSpec& destination, const TestHooks* hooks)
    : catalog_(catalog), name_(pipe.name) {
  RunnerOptions opts;
  opts.stop = &stop_;
  opts.hooks = hooks;
  runner_ = std::make_unique<PipeRunner>(catalog, pipe, source, destination, opts);
  thread_ = std::thread([this] { final_ = runner_->run(); });
}

PipeState BackgroundPipe::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  return final_;
}

PipeState BackgroundPipe::pause() {
  EXPECT_TRUE(std::holds_alternative<Accepted>(runner_->request_pause()));
  if (thread_.joinable()) thread_.join();
  return final_;
}

::testing::AssertionResult BackgroundPipe::wait_for(PipeState state, std::chrono::seconds timeout) {
  std::optional<PipeRecord> rec;
  eventually([&] {
    rec = catalog_.get_pipe(name_);
    return rec && (rec->state == state || rec->state == PipeState::Failed);
  }, static_cast<int>(timeout.count()));
  if (rec && rec->state == state) return ::testing::AssertionSuccess();
  if (rec && rec->state == PipeState::Failed) return ::testing::AssertionFailure() << "pipe failed: " << rec->last_error;
  return ::testing::AssertionFailure() << "pipe did not reach " << to_string(state);
}

std::pair<Rows, Rows> both_sides(Sandbox& sb, const std::string& table, const std::vector<std::string>& cols,
                                 const std::string& key) {
  std::string pg_cols, ch_cols;
  for (const auto& c : cols) {
    // boolean is UInt8 in ClickHouse: compare as 1/0.
    bool is_bool = sb.pg_value(fmt::format("SELECT count(*) FROM pg_attribute WHERE attrelid = {}::regclass AND "
                                           "attname = {} AND atttypid = 'boolean'::regtype",
                                           quote_pg_literal(table), quote_pg_literal(c))) == "1";
    std::string pg_expr = is_bool ? fmt::format("CASE WHEN {0} THEN '1' ELSE '0' END", quote_pg_ident(c))
                                  : fmt::format("format('%s', {})", quote_pg_ident(c));
    pg_cols += (pg_cols.empty() ? "" : ", ") + fmt::format("CASE WHEN {0} IS NOT NULL THEN {1} END", quote_pg_ident(c), pg_expr);
    ch_cols += (ch_cols.empty() ? "" : ", ") + fmt::format("toString({})", quote_backtick_ident(c));
  }
  Rows pg = sb.pg_rows(fmt::format("SELECT {} FROM {} ORDER BY {}", pg_cols, table, key));
  Rows ch = sb.ch_rows(fmt::format("SELECT {} FROM {} FINAL WHERE _ferry_is_deleted = 0 ORDER BY {}", ch_cols,
                                   ch_table(sb, table), key));
  return {pg, ch};
}

::testing::AssertionResult sides_converge(const std::function<std::pair<Rows, Rows>()>& sides, const std::string& table,
                                          const std::string& source_name, std::chrono::seconds timeout,
                                          const std::string& destination_name) {
  std::pair<Rows, Rows> last;
  std::string error;  // e.g. a column the pipe has not added yet
  bool same = eventually([&] {
    try {
      last = sides();
      error.clear();
      return last.first == last.second;
    } catch (const std::exception& e) {
      error = e.what();
      return false;
    }
  }, static_cast<int>(timeout.count()), 200ms);
  if (same) return ::testing::AssertionSuccess();
  if (!error.empty()) return ::testing::AssertionFailure() << table << ": " << error;
  auto r = ::testing::AssertionFailure() << table << ": " << source_name << " has " << last.first.size()
                                         << " rows, " << destination_name << " " << last.second.size();
  for (size_t i = 0; i < std::min(last.first.size(), last.second.size()); ++i) {
    if (last.first[i] != last.second[i]) {
      r << "; first difference at row " << i << ": " << source_name << " [";
      for (auto& v : last.first[i]) r << v.substr(0, 40) << "|";
      r << "] " << destination_name << " [";
      for (auto& v : last.second[i]) r << v.substr(0, 40) << "|";
      r << "]";
      break;
    }
  }
  return r;
}

::testing::AssertionResult converges(Sandbox& sb, const std::string& table, const std::vector<std::string>& cols,
                                     const std::string& key, std::chrono::seconds timeout) {
  return sides_converge([&] { return both_sides(sb, table, cols, key); }, table, "postgres", timeout);
}

void create_transfer_table(Sandbox& sb) {
  sb.pg_exec(R"SQL(
    CREATE TABLE acc (id int PRIMARY KEY, balance bigint, note text, big text);
    INSERT INTO acc SELECT g, 1000, 'n' || g, CASE WHEN g % 50 = 0 THEN (SELECT string_agg(md5(random()::text || x), '')
      FROM generate_series(1, 200) x) END FROM generate_series(1, 3000) g;
  )SQL");
}

PgTransferWriter::PgTransferWriter(Sandbox& sb)
    : thread_([this, dsn = sb.pg_dsn()] {
        PgConnection conn(dsn, "");
        std::mt19937 rng(42);
        int next_id = 100000;
        while (writing_) {
          int a = 1 + rng() % 3000, b = 1 + rng() % 3000;
          conn.exec(fmt::format(
              "BEGIN; UPDATE acc SET balance = balance - 1 WHERE id = {0}; "
              "UPDATE acc SET balance = balance + 1, note = note || '+' WHERE id = {1}; "
              "INSERT INTO acc VALUES ({2}, 0, 'fresh', CASE WHEN {2} % 7 = 0 THEN repeat(md5('{2}'), 100) END); "
              "DELETE FROM acc WHERE id = {2} - 3 AND id > 100000; "
              "UPDATE acc SET id = id + 1000000 WHERE id = {3} AND id < 1000000; COMMIT;",
              a, b, next_id++, 1 + rng() % 3000));
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
      }) {}

void PgTransferWriter::stop() {
  writing_ = false;
  if (thread_.joinable()) thread_.join();
}

const char* const kMixedChangesTables = R"SQL(
    CREATE TABLE a (id int PRIMARY KEY, v text, big text);
    CREATE TABLE c (k1 int, k2 text, payload text, PRIMARY KEY (k1, k2));
    INSERT INTO a SELECT g, 'a' || g, CASE WHEN g % 10 = 0 THEN (SELECT string_agg(md5(random()::text || x), '')
      FROM generate_series(1, 300) x) END FROM generate_series(1, 2000) g;
    INSERT INTO c SELECT g % 10, 'k' || g, 'p' || g FROM generate_series(1, 500) g;
  )SQL";

const char* const kMixedChanges = R"SQL(
    BEGIN;
    UPDATE a SET v = v || '-upd' WHERE id % 7 = 0;            -- big unchanged: TOAST not sent
    UPDATE a SET id = id + 100000 WHERE id % 20 = 0;          -- key updates with TOAST values unchanged
    UPDATE a SET id = id - 50000, v = 'moved twice' WHERE id = 100040;
    DELETE FROM a WHERE id % 9 = 0;
    INSERT INTO a VALUES (20, 'reused old key', NULL);
    COMMIT;
    BEGIN;
    UPDATE a SET v = 'twice-1' WHERE id = 10;
    UPDATE a SET v = 'twice-2' WHERE id = 10;
    DELETE FROM a WHERE id = 11;
    INSERT INTO a VALUES (11, 'reborn', NULL);
    COMMIT;
    TRUNCATE c;
    INSERT INTO c VALUES (1, 'after-truncate', 'p'), (1, 'After-Truncate', 'case'), (1, 'after-truncate ', 'pad');
  )SQL";

}  // namespace ferry::test
