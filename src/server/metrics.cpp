#include "server/metrics.h"

#include <set>
#include <vector>

#include <fmt/format.h>

#include "pipe/compare_record.h"
#include "pipe/unrepresentable.h"
#include "catalog/catalog.h"
#include "pipe/spec_json.h"
#include "server/api_json.h"

namespace ferry {

Metrics::TableCounters& Metrics::table_counters(const std::string& pipe, const std::string& table, MetricPhase phase) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = tables_[Key{pipe, table, phase}];
  if (!slot) slot = std::make_unique<TableCounters>();
  return *slot;
}

std::atomic<int64_t>& Metrics::batch_counter(const std::string& pipe) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = batches_[pipe];
  if (!slot) slot = std::make_unique<std::atomic<int64_t>>(0);
  return *slot;
}

void Metrics::add_rows(const std::string& pipe, const std::string& table, MetricPhase phase, int64_t rows,
                       int64_t bytes) {
  TableCounters& c = table_counters(pipe, table, phase);
  c.rows.fetch_add(rows, std::memory_order_relaxed);
  c.bytes.fetch_add(bytes, std::memory_order_relaxed);
}

void Metrics::add_batch(const std::string& pipe) { batch_counter(pipe).fetch_add(1, std::memory_order_relaxed); }

std::vector<Metrics::TableSample> Metrics::tables() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<TableSample> out;
  out.reserve(tables_.size());
  for (const auto& [key, c] : tables_)
    out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), c->rows.load(), c->bytes.load()});
  return out;
}

std::map<std::string, int64_t> Metrics::batches() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, int64_t> out;
  for (const auto& [pipe, c] : batches_) out[pipe] = c->load();
  return out;
}

void Metrics::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  tables_.clear();
  batches_.clear();
}

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

std::string labels(std::initializer_list<std::pair<const char*, std::string>> kv) {
  std::string out = "{";
  for (const auto& [k, v] : kv) {
    if (out.size() > 1) out += ',';
    out += fmt::format("{}=\"{}\"", k, escape_label_value(v));
  }
  return out + "}";
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string render_prometheus(Catalog& catalog, const Metrics& metrics) {
  std::vector<PipeRecord> pipes = catalog.list_pipes();
  std::set<std::string> known;
  for (const auto& p : pipes) known.insert(p.name);

  // Every table of every pipe appears from the start (0), in the phases its mode has.
  std::map<std::tuple<std::string, std::string, MetricPhase>, std::pair<int64_t, int64_t>> tables;
  for (const auto& p : pipes) {
    std::optional<PipeMode> mode;
    try {
      mode = pipe_spec_from_json(p.spec_json).mode;
    } catch (const std::exception&) {
    }
    for (const auto& t : catalog.tables(p.name)) {
      if (!mode || mode_snapshots(*mode)) tables[{p.name, t.source, MetricPhase::Snapshot}];
      if (!mode || mode_streams(*mode)) tables[{p.name, t.source, MetricPhase::Cdc}];
    }
  }
  for (const auto& s : metrics.tables())
    if (known.count(s.pipe)) tables[{s.pipe, s.table, s.phase}] = {s.rows, s.bytes};
  std::map<std::string, int64_t> batches = metrics.batches();

  std::string out;
  family(out, "ferry_rows_total", "counter", "Rows written to the destination, per pipe, table and phase.");
  for (const auto& [k, v] : tables)
    out += fmt::format("ferry_rows_total{} {}\n",
                       labels({{"pipe", std::get<0>(k)}, {"table", std::get<1>(k)}, {"phase", to_string(std::get<2>(k))}}),
                       v.first);
  family(out, "ferry_bytes_total", "counter", "Bytes of row data written to the destination, per pipe, table and phase.");
  for (const auto& [k, v] : tables)
    out += fmt::format("ferry_bytes_total{} {}\n",
                       labels({{"pipe", std::get<0>(k)}, {"table", std::get<1>(k)}, {"phase", to_string(std::get<2>(k))}}),
                       v.second);
  family(out, "ferry_batches_total", "counter", "Change batches applied at the destination.");
  for (const auto& p : pipes) {
    auto it = batches.find(p.name);
    out += fmt::format("ferry_batches_total{} {}\n", labels({{"pipe", p.name}}), it == batches.end() ? 0 : it->second);
  }

  family(out, "ferry_unrepresentable_values", "counter",
         "Values the destination type could not hold, written per on_unrepresentable (null, clamp), per pipe, table "
         "and column.");
  for (const auto& p : pipes)
    for (const auto& [table, cols] : unrepresentable_tallies(catalog, p.name))
      for (const auto& [col, t] : cols)
        out += fmt::format("ferry_unrepresentable_values{} {}\n",
                           labels({{"pipe", p.name}, {"table", table}, {"column", col}}), t.count);

  std::vector<std::pair<std::string, PipeLag>> lags;
  for (const auto& p : pipes) lags.emplace_back(p.name, pipe_lag(catalog, p.name));
  family(out, "ferry_lag_seconds", "gauge", "Seconds since the source commit of the last applied change.");
  for (const auto& [name, lag] : lags)
    if (lag.seconds) out += fmt::format("ferry_lag_seconds{} {:.3f}\n", labels({{"pipe", name}}), *lag.seconds);
  family(out, "ferry_lag_bytes", "gauge", "Bytes of source log not yet applied at the destination.");
  for (const auto& [name, lag] : lags)
    if (lag.bytes) out += fmt::format("ferry_lag_bytes{} {}\n", labels({{"pipe", name}}), *lag.bytes);

  family(out, "ferry_pipe_state", "gauge", "1 for the state the pipe is in, 0 for the others.");
  for (const auto& p : pipes)
    for (PipeState s : kAllStates)
      out += fmt::format("ferry_pipe_state{} {}\n", labels({{"pipe", p.name}, {"state", to_string(s)}}),
                         s == p.state ? 1 : 0);
  // The last comparison of each table (pipe/compare_record.h): outcome as a state set, time, duration.
  std::vector<std::tuple<std::string, std::string, CompareRecord>> compared;
  for (const auto& p : pipes)
    for (const auto& t : catalog.tables(p.name))
      if (auto r = last_comparison(catalog, p.name, t.source)) compared.emplace_back(p.name, t.source, *r);
  family(out, "ferry_compare_last_result", "gauge",
         "1 for the outcome of the table's last comparison (ferry compare), 0 for the others.");
  for (const auto& [pipe, table, r] : compared)
    for (const char* outcome : {"equal", "different", "still changing", "missing"})
      out += fmt::format("ferry_compare_last_result{} {}\n",
                         labels({{"pipe", pipe}, {"table", table}, {"outcome", outcome}}), r.outcome == outcome ? 1 : 0);
  family(out, "ferry_compare_last_timestamp_seconds", "gauge", "Unix time the table's last comparison finished.");
  for (const auto& [pipe, table, r] : compared)
    out += fmt::format("ferry_compare_last_timestamp_seconds{} {:.3f}\n", labels({{"pipe", pipe}, {"table", table}}),
                       static_cast<double>(r.at_ms) / 1000.0);
  family(out, "ferry_compare_last_duration_seconds", "gauge", "How long the table's last comparison took.");
  for (const auto& [pipe, table, r] : compared)
    out += fmt::format("ferry_compare_last_duration_seconds{} {:.3f}\n", labels({{"pipe", pipe}, {"table", table}}),
                       r.seconds);

  family(out, "ferry_retries", "gauge", "Retries of the current error (reset once the pipe makes progress).");
  for (const auto& p : pipes) out += fmt::format("ferry_retries{} {}\n", labels({{"pipe", p.name}}), p.retry_count);
  return out;
}

}  // namespace ferry
