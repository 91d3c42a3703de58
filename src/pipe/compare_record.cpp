// The last comparison per table in the catalog's meta (compare_record.h).
#include "pipe/compare_record.h"

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/clock.h"
#include "core/error.h"

namespace ferry {

using nlohmann::json;

std::string compare_meta_key(const std::string& table) { return "compare:" + table; }

void record_comparisons(Catalog& catalog, const std::string& pipe, CompareLevel level,
                        const std::vector<TableComparison>& tables, int64_t now_ms) {
  if (!catalog.get_pipe(pipe)) return;
  for (const auto& t : tables) {
    json j = {{"at_ms", now_ms},
              {"level", to_string(level)},
              {"outcome", t.outcome},
              {"source_rows", t.source_rows},
              {"destination_rows", t.destination_rows},
              {"differing_buckets", t.differing_buckets},
              {"still_changing_buckets", t.still_changing_buckets},
              {"differences", t.differences.size()},
              {"seconds", t.seconds}};
    try {
      catalog.put_meta(pipe, compare_meta_key(t.table), j.dump());
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Config) throw;  // Config: the pipe was deleted meanwhile
      return;
    }
  }
}

std::optional<CompareRecord> last_comparison(Catalog& catalog, const std::string& pipe, const std::string& table) {
  std::optional<std::string> text = catalog.get_meta(pipe, compare_meta_key(table));
  if (!text || text->empty()) return std::nullopt;
  json j = json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("at_ms") || !j["at_ms"].is_number_integer()) return std::nullopt;
  CompareRecord r;
  r.at_ms = j["at_ms"].get<int64_t>();
  r.level = j.value("level", std::string());
  r.outcome = j.value("outcome", std::string());
  r.source_rows = j.value("source_rows", int64_t(-1));
  r.destination_rows = j.value("destination_rows", int64_t(-1));
  r.differing_buckets = j.value("differing_buckets", int64_t(0));
  r.still_changing_buckets = j.value("still_changing_buckets", int64_t(0));
  r.differences = j.value("differences", int64_t(0));
  r.seconds = j.value("seconds", 0.0);
  return r;
}

json to_json(const CompareRecord& r) {
  auto rows = [](int64_t n) { return n >= 0 ? json(n) : json(); };
  return {{"at", format_time_utc(r.at_ms)},
          {"level", r.level},
          {"outcome", r.outcome},
          {"source_rows", rows(r.source_rows)},
          {"destination_rows", rows(r.destination_rows)},
          {"differing_buckets", r.differing_buckets},
          {"still_changing_buckets", r.still_changing_buckets},
          {"differences", r.differences},
          {"seconds", r.seconds}};
}

}  // namespace ferry
