// The last hour of each pipe's throughput and lag, for the console's Metrics
// charts (GET /api/v1/pipes/{name}/metrics).
//
// The runners only keep cumulative counters (server/metrics.h) and the latest
// lag (catalog meta keys), so `ferry server` samples them at a fixed interval
// and keeps the samples here: rates are the counter differences between two
// samples. Samples live in memory only; a restarted server starts a new
// series. Thread-safe: sample() runs on the server's sampler thread while
// request threads read series_json().
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ferry {

class Catalog;
class Metrics;

class MetricsHistory {
 public:
  explicit MetricsHistory(std::chrono::milliseconds interval = std::chrono::seconds(5),
                          std::chrono::milliseconds window = std::chrono::hours(1));

  struct Reading {  // one pipe at one instant
    int64_t rows_total = 0, bytes_total = 0;  // applied at the destination since the server started
    std::optional<double> lag_seconds;
    std::optional<int64_t> lag_bytes;
    std::string state;
  };
  // Adds a sample for `pipe` at `now_ms`; drops samples older than the window.
  // A counter that went down (cleared) counts as a new start: rate 0.
  void record(const std::string& pipe, int64_t now_ms, const Reading& r);
  // Reads every pipe of the catalog with its counters and records them.
  void sample(Catalog& catalog, const Metrics& metrics, int64_t now_ms);
  // Forgets pipes that are no longer in `live` (deleted pipes).
  void keep_only(const std::vector<std::string>& live);

  // {"interval_seconds", "window_seconds", "samples": [{"at","t_ms","rows_per_second",
  //  "bytes_per_second","rows_total","bytes_total","lag_seconds","lag_bytes","state"}]}
  nlohmann::json series_json(const std::string& pipe) const;
  std::chrono::milliseconds interval() const { return interval_; }

 private:
  struct Sample {
    int64_t t_ms;
    Reading r;
    double rows_per_s, bytes_per_s;
  };
  std::chrono::milliseconds interval_, window_;
  mutable std::mutex mu_;
  std::map<std::string, std::deque<Sample>> series_;
};

}  // namespace ferry
