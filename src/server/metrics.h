// Process-wide counters of moved data, exposed by `ferry server` at /metrics
// in the Prometheus text format.
//
// The runner increments them (snapshot: per finished partition; CDC: per
// applied batch). Counters live as atomics in a map; the mutex only guards
// creation, so the hot path is a lookup plus fetch_add. State, retries and lag
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

#include "connectors/copy_stream.h"

namespace ferry {

class Catalog;
struct ChangeBatch;

enum class MetricPhase { Snapshot, Cdc };
const char* to_string(MetricPhase p);

class Metrics {
 public:
  // The registry of this process.
  static Metrics& global();

  // Rows and bytes written to the destination for one table of a pipe.
  void add_rows(const std::string& pipe, const std::string& table, MetricPhase phase, int64_t rows, int64_t bytes);
  // One batch of changes applied at the destination.
  void add_batch(const std::string& pipe);

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

// One applied CDC batch: rows and value bytes per table, and the batch count.
void record_cdc_batch(const std::string& pipe, const ChangeBatch& batch);

// Counts the bytes a snapshot partition streams through (COPY text framing).
class CountingCopyStream : public CopyStream {
 public:
  explicit CountingCopyStream(CopyStream& inner) : inner_(inner) {}
  bool next_chunk(std::string& out) override {
    size_t before = out.size();
    bool more = inner_.next_chunk(out);
    bytes_ += static_cast<int64_t>(out.size() - before);
    return more;
  }
  int64_t bytes() const { return bytes_; }

 private:
  CopyStream& inner_;
  int64_t bytes_ = 0;
};

// Label value escaped for the exposition format: \ -> \\, " -> \", newline -> \n.
std::string escape_label_value(const std::string& v);

// The /metrics page: counters of `metrics` for the pipes of the catalog, plus
// per pipe its state, retries and lag (from the runner's catalog meta keys).
std::string render_prometheus(Catalog& catalog, const Metrics& metrics);

}  // namespace ferry
