#include "server/metrics_history.h"

#include <algorithm>

#include "catalog/catalog.h"
#include "core/clock.h"
#include "server/api_json.h"
#include "server/metrics.h"

namespace ferry {

using nlohmann::json;

MetricsHistory::MetricsHistory(std::chrono::milliseconds interval, std::chrono::milliseconds window)
    : interval_(interval), window_(window) {}

void MetricsHistory::record(const std::string& pipe, int64_t now_ms, const Reading& r) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& s = series_[pipe];
  Sample next{now_ms, r, 0.0, 0.0};
  if (!s.empty() && now_ms > s.back().t_ms) {
    const Sample& prev = s.back();
    double dt = static_cast<double>(now_ms - prev.t_ms) / 1000.0;
    if (r.rows_total >= prev.r.rows_total) next.rows_per_s = static_cast<double>(r.rows_total - prev.r.rows_total) / dt;
    if (r.bytes_total >= prev.r.bytes_total)
      next.bytes_per_s = static_cast<double>(r.bytes_total - prev.r.bytes_total) / dt;
  }
  s.push_back(std::move(next));
  while (!s.empty() && s.front().t_ms < now_ms - window_.count()) s.pop_front();
}

void MetricsHistory::sample(Catalog& catalog, const Metrics& metrics, int64_t now_ms) {
  std::map<std::string, Reading> readings;
  for (const auto& rec : catalog.list_pipes()) {
    Reading& r = readings[rec.name];
    r.state = to_string(rec.state);
    PipeLag lag = pipe_lag(catalog, rec.name);
    r.lag_seconds = lag.seconds;
    r.lag_bytes = lag.bytes;
  }
  for (const auto& t : metrics.tables()) {
    auto it = readings.find(t.pipe);
    if (it == readings.end()) continue;
    it->second.rows_total += t.rows;
    it->second.bytes_total += t.bytes;
  }
  std::vector<std::string> live;
  for (const auto& [pipe, r] : readings) {
    record(pipe, now_ms, r);
    live.push_back(pipe);
  }
  keep_only(live);
}

void MetricsHistory::keep_only(const std::vector<std::string>& live) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = series_.begin(); it != series_.end();)
    it = std::find(live.begin(), live.end(), it->first) == live.end() ? series_.erase(it) : std::next(it);
}

json MetricsHistory::series_json(const std::string& pipe) const {
  json samples = json::array();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = series_.find(pipe); it != series_.end())
      for (const Sample& s : it->second)
        samples.push_back({{"at", format_time_utc(s.t_ms)},
                           {"t_ms", s.t_ms},
                           {"rows_per_second", s.rows_per_s},
                           {"bytes_per_second", s.bytes_per_s},
                           {"rows_total", s.r.rows_total},
                           {"bytes_total", s.r.bytes_total},
                           {"lag_seconds", s.r.lag_seconds ? json(*s.r.lag_seconds) : json()},
                           {"lag_bytes", s.r.lag_bytes ? json(*s.r.lag_bytes) : json()},
                           {"state", s.r.state}});
  }
  return {{"interval_seconds", static_cast<double>(interval_.count()) / 1000.0},
          {"window_seconds", static_cast<double>(window_.count()) / 1000.0},
          {"samples", std::move(samples)}};
}

}  // namespace ferry
