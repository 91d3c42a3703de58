#include "pipe/unrepresentable.h"

#include <mutex>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "connectors/api/destination.h"
#include "pipe/resync.h"
#include "pipe/runner.h"
#include "core/spec.h"

namespace ferry {

namespace {

constexpr const char* kMetaKey = "unrepresentable";
std::mutex tally_mu;

std::string source_of(const PipeSpec& pipe, const std::string& destination) {
  for (const auto& m : pipe.tables) {
    std::string d = destination_table_name(m);
    if (d == destination || resync_table_name(d) == destination) return m.source;
  }
  return destination;
}

UnrepresentableTallies parse(const std::string& text) {
  UnrepresentableTallies out;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  for (const auto& [table, cols] : j.items()) {
    if (!cols.is_object()) continue;
    for (const auto& [col, v] : cols.items()) {
      UnrepresentableTally& t = out[table][col];
      t.count = v.value("count", int64_t(0));
      t.first_value = v.value("first_value", std::string());
    }
  }
  return out;
}

}  // namespace

void record_unrepresentable(Catalog& catalog, const PipeSpec& pipe, const std::vector<UnrepresentableCount>& counts) {
  if (counts.empty()) return;
  std::lock_guard<std::mutex> lock(tally_mu);
  UnrepresentableTallies all = unrepresentable_tallies(catalog, pipe.name);
  for (const auto& c : counts) {
    UnrepresentableTally& t = all[source_of(pipe, c.table)][c.column];
    if (t.count == 0) t.first_value = c.first_value;
    t.count += c.count;
  }
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [table, cols] : all)
    for (const auto& [col, t] : cols) j[table][col] = {{"count", t.count}, {"first_value", t.first_value}};
  catalog.put_meta(pipe.name, kMetaKey, j.dump());
}

UnrepresentableTallies unrepresentable_tallies(Catalog& catalog, const std::string& pipe) {
  return parse(catalog.get_meta(pipe, kMetaKey).value_or(""));
}

void clear_unrepresentable(Catalog& catalog, const std::string& pipe) { catalog.put_meta(pipe, kMetaKey, ""); }

}  // namespace ferry
