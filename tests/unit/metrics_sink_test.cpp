// record_cdc_batch and CountingCopyStream (pipe/metrics_sink.h).
#include "pipe/metrics_sink.h"

#include <gtest/gtest.h>

#include "connectors/api/change.h"
#include "server/metrics.h"

namespace ferry {
namespace {

TEST(MetricsSink, CdcBatchCountsRowsAndBytesPerTable) {
  Metrics m;  // the server's sink
  ChangeBatch b;
  b.tables.push_back(ChangeTable{"public.a", "a", {"id", "v"}, {0}});
  b.tables.push_back(ChangeTable{"public.b", "b", {"id"}, {0}});
  auto row = [&](uint32_t table, std::vector<std::string> vals) {
    RowChange r;
    r.table = table;
    r.first_cell = static_cast<uint32_t>(b.cells.size());
    for (auto& v : vals) b.add_cell(CellState::Value, v);
    b.rows.push_back(r);
  };
  row(0, {"1", "hello"});
  row(0, {"2", "x"});
  row(1, {"10"});
  record_cdc_batch(m, "p", b);
  record_cdc_batch(m, "p", ChangeBatch{});  // empty: not a batch
  int64_t a_rows = 0, a_bytes = 0, b_rows = 0;
  for (const auto& s : m.tables()) {
    if (s.table == "public.a" && s.phase == MetricPhase::Cdc) a_rows = s.rows, a_bytes = s.bytes;
    if (s.table == "public.b" && s.phase == MetricPhase::Cdc) b_rows = s.rows;
  }
  EXPECT_EQ(a_rows, 2);
  EXPECT_EQ(a_bytes, 8);
  EXPECT_EQ(b_rows, 1);
  EXPECT_EQ(m.batches()["p"], 1);
}

TEST(MetricsSink, CountingCopyStreamCountsWhatPassesThrough) {
  struct TwoChunks : CopyStream {
    int left = 2;
    bool next_chunk(std::string& out) override {
      if (left-- == 0) return false;
      out += "1\tab\n";
      return true;
    }
  } inner;
  CountingCopyStream counted(inner);
  std::string out = "x";
  while (counted.next_chunk(out)) {
  }
  EXPECT_EQ(counted.bytes(), 10);  // "x" was there before
}

}  // namespace
}  // namespace ferry
