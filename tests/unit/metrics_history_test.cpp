// The sampled series behind the console's Metrics tab (server/metrics_history.h).
#include <gtest/gtest.h>

#include "server/metrics_history.h"

using namespace ferry;
using namespace std::chrono_literals;

TEST(MetricsHistory, RatesAreCounterDifferencesOverTime) {
  MetricsHistory h(1s, 1h);
  h.record("p", 10'000, {.rows_total = 100, .bytes_total = 1000, .lag_seconds = 1.5, .lag_bytes = 64, .state = "Running"});
  h.record("p", 12'000, {.rows_total = 300, .bytes_total = 5000, .state = "Running"});
  auto s = h.series_json("p")["samples"];
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0]["rows_per_second"], 0.0);  // nothing to compare the first sample with
  EXPECT_EQ(s[0]["lag_seconds"], 1.5);
  EXPECT_EQ(s[0]["lag_bytes"], 64);
  EXPECT_EQ(s[1]["rows_per_second"], 100.0);
  EXPECT_EQ(s[1]["bytes_per_second"], 2000.0);
  EXPECT_TRUE(s[1]["lag_seconds"].is_null());
  EXPECT_EQ(s[1]["state"], "Running");
  EXPECT_EQ(h.series_json("p")["interval_seconds"], 1.0);
}

TEST(MetricsHistory, KeepsTheWindowAndForgetsDeletedPipes) {
  MetricsHistory h(1s, 10s);
  for (int64_t t = 0; t <= 30'000; t += 1000) h.record("p", t, {.rows_total = t, .state = "Running"});
  auto s = h.series_json("p")["samples"];
  ASSERT_EQ(s.size(), 11u);  // 20 s .. 30 s
  EXPECT_EQ(s[0]["t_ms"], 20'000);
  h.record("q", 30'000, {.state = "Paused"});
  h.keep_only({"q"});
  EXPECT_TRUE(h.series_json("p")["samples"].empty());
  EXPECT_EQ(h.series_json("q")["samples"].size(), 1u);
}

TEST(MetricsHistory, ACounterThatWentDownIsANewStart) {
  MetricsHistory h(1s, 1h);
  h.record("p", 1000, {.rows_total = 500});
  h.record("p", 2000, {.rows_total = 20});
  EXPECT_EQ(h.series_json("p")["samples"][1]["rows_per_second"], 0.0);
}
