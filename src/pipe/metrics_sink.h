// Where the runner reports the data it moved: rows and bytes written per table
// and phase, and applied change batches. The runner knows only this interface;
// `ferry server` hands it its Metrics registry (server/metrics.h), which
// /metrics renders. Without one the runner reports to MetricsSink::none().
//
// Thread safety: the runner calls a sink from its worker threads (several at
// once during a parallel load) and from its streaming thread, so
// implementations must be safe for concurrent calls. A sink must outlive every
// runner it is handed to.
#pragma once
#include <cstdint>
#include <string>

#include "connectors/api/copy_stream.h"

namespace ferry {

struct ChangeBatch;

enum class MetricPhase { Snapshot, Cdc };
const char* to_string(MetricPhase p);

class MetricsSink {
 public:
  virtual ~MetricsSink() = default;

  // Rows and bytes written to the destination for one table of a pipe
  // (snapshot: per finished partition; CDC: per applied batch).
  virtual void add_rows(const std::string& pipe, const std::string& table, MetricPhase phase, int64_t rows,
                        int64_t bytes) {}
  // One batch of changes applied at the destination.
  virtual void add_batch(const std::string& pipe) {}

  // A sink that drops everything; lives for the whole process.
  static MetricsSink& none();
};

// One applied CDC batch: rows and value bytes per table to `sink`, then the
// batch itself. An empty batch is not reported.
void record_cdc_batch(MetricsSink& sink, const std::string& pipe, const ChangeBatch& batch);

// Counts the bytes a snapshot partition streams through (COPY text framing).
// Not thread-safe: one stream, one reader.
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

}  // namespace ferry
