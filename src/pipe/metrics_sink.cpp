#include "pipe/metrics_sink.h"

#include <vector>

#include "connectors/api/change.h"

namespace ferry {

const char* to_string(MetricPhase p) { return p == MetricPhase::Snapshot ? "snapshot" : "cdc"; }

MetricsSink& MetricsSink::none() {
  static MetricsSink sink;  // stateless: safe to share between threads
  return sink;
}

void record_cdc_batch(MetricsSink& sink, const std::string& pipe, const ChangeBatch& batch) {
  if (batch.rows.empty()) return;
  std::vector<int64_t> rows(batch.tables.size(), 0), bytes(batch.tables.size(), 0);
  for (const RowChange& r : batch.rows) {
    if (r.table >= batch.tables.size()) continue;
    ++rows[r.table];
    size_t width = batch.tables[r.table].columns.size();
    if (r.op == RowOp::Truncate) continue;
    for (size_t i = r.first_cell; i < r.first_cell + width && i < batch.cells.size(); ++i)
      bytes[r.table] += batch.cells[i].size;
  }
  for (size_t t = 0; t < batch.tables.size(); ++t)
    if (rows[t]) sink.add_rows(pipe, batch.tables[t].source, MetricPhase::Cdc, rows[t], bytes[t]);
  sink.add_batch(pipe);
}

}  // namespace ferry
