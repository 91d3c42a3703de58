// Process-wide counters of moved data, exposed by `ferry server` at /metrics
// in the Prometheus text format.
//
// The registry is the MetricsSink that `ferry server` hands its runners
// (pipe/metrics_sink.h): they increment it (snapshot: per finished partition;
// CDC: per applied batch). Counters live as atomics in a map; the mutex only
// guards creation, so the hot path is a lookup plus fetch_add; every method is
// thread-safe. State, retries and lag
// are not counted here: render_prometheus reads them from the catalog.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "pipe/metrics_sink.h"

namespace ferry {

class Catalog;

class Metrics : public MetricsSink {
 public:
  void add_rows(const std::string& pipe, const std::string& table, MetricPhase phase, int64_t rows,
                int64_t bytes) override;
  void add_batch(const std::string& pipe) override;

  struct TableSample {
    std::string pipe, table;
    MetricPhase phase;
    int64_t rows = 0, bytes = 0;
  };
  // A consistent-enough copy for rendering (each counter read atomically).
  std::vector<TableSample> tables() const;
  std::map<std::string, int64_t> batches() const;

  // Drops every counter (tests).
  void clear();

 private:
  struct TableCounters {
    std::atomic<int64_t> rows{0}, bytes{0};
  };
  using Key = std::tuple<std::string, std::string, MetricPhase>;
  TableCounters& table_counters(const std::string& pipe, const std::string& table, MetricPhase phase);
  std::atomic<int64_t>& batch_counter(const std::string& pipe);

  mutable std::mutex mu_;  // guards the maps' structure, not the counters
  std::map<Key, std::unique_ptr<TableCounters>> tables_;
  std::map<std::string, std::unique_ptr<std::atomic<int64_t>>> batches_;
};

// Label value escaped for the exposition format: \ -> \\, " -> \", newline -> \n.
std::string escape_label_value(const std::string& v);

// The /metrics page: counters of `metrics` for the pipes of the catalog, plus
// per pipe its state, retries and lag (from the runner's catalog meta keys).
std::string render_prometheus(Catalog& catalog, const Metrics& metrics);

}  // namespace ferry
