// Prometheus metrics: counting and rendering per pipe and table.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "pipe/spec_json.h"
#include "server/metrics.h"
#include "../shared/pipe_spec.h"
#include "../shared/temp_dir.h"

using namespace ferry;
using ferry::test::pipe_spec;
using ferry::test::TempDir;

TEST(ServerMetrics, EscapesLabelValues) {
  EXPECT_EQ(escape_label_value("plain"), "plain");
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(ServerMetrics, CountsConcurrentlyAndRendersPerPipeAndTable) {
  TempDir dir;
  auto catalog = open_catalog("sqlite:" + (dir.path / "c.db").string());
  catalog->create_pipe("p\"1", pipe_spec_to_json(pipe_spec("p\"1", PipeMode::SnapshotCdc, {"public.orders"})), "test");
  catalog->set_state("p\"1", PipeState::Running, "test");
  catalog->record_retry("p\"1", 3, "flaky");
  catalog->put_meta("p\"1", "lag_bytes", "4096");
  TableStatus t;
  t.pipe = "p\"1";
  t.source = "public.orders";
  t.destination = "orders";
  t.state = "streaming";
  catalog->upsert_table(t);

  Metrics m;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int k = 0; k < 1000; ++k) m.add_rows("p\"1", "public.orders", MetricPhase::Snapshot, 2, 10);
    });
  for (auto& th : threads) th.join();
  m.add_rows("gone", "x", MetricPhase::Cdc, 5, 5);  // not in the catalog: not rendered

  std::string text = render_prometheus(*catalog, m);
  EXPECT_NE(text.find("# TYPE ferry_rows_total counter"), std::string::npos);
  EXPECT_NE(text.find("ferry_rows_total{pipe=\"p\\\"1\",table=\"public.orders\",phase=\"snapshot\"} 8000\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ferry_bytes_total{pipe=\"p\\\"1\",table=\"public.orders\",phase=\"snapshot\"} 40000\n"),
            std::string::npos);
  EXPECT_NE(text.find("ferry_rows_total{pipe=\"p\\\"1\",table=\"public.orders\",phase=\"cdc\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("ferry_batches_total{pipe=\"p\\\"1\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("ferry_pipe_state{pipe=\"p\\\"1\",state=\"Running\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ferry_pipe_state{pipe=\"p\\\"1\",state=\"Failed\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("ferry_retries{pipe=\"p\\\"1\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("ferry_lag_bytes{pipe=\"p\\\"1\"} 4096\n"), std::string::npos);
  EXPECT_EQ(text.find("gone"), std::string::npos);
  // Families are contiguous: each TYPE line appears once.
  EXPECT_EQ(text.find("# TYPE ferry_rows_total"), text.rfind("# TYPE ferry_rows_total"));
}
