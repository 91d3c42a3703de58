#include "pipe/resync.h"

#include <algorithm>
#include <functional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/ident.h"
#include "core/log.h"
#include "pipe/keyless_staging.h"
#include "pipe/runner.h"

namespace ferry {

using nlohmann::json;

std::string resync_plan_to_json(const ResyncPlan& plan) {
  json j;
  j["tables"] = plan.tables;
  j["replay_from"] = plan.replay_from;
  j["stream_until"] = plan.stream_until;
  j["new_stream"] = plan.new_stream;
  j["in_place"] = plan.in_place;
  j["rebuilt_identity"] = plan.rebuilt_identity;
  return j.dump();
}

std::optional<ResyncPlan> resync_plan_from_json(const std::string& text) {
  if (text.empty()) return std::nullopt;
  try {
    json j = json::parse(text);
    ResyncPlan plan;
    plan.tables = j.at("tables").get<std::vector<std::string>>();
    plan.replay_from = j.value("replay_from", "");
    plan.stream_until = j.value("stream_until", "");
    plan.new_stream = j.value("new_stream", false);
    plan.in_place = j.value("in_place", false);
    if (j.contains("rebuilt_identity"))
      plan.rebuilt_identity = j["rebuilt_identity"].get<std::map<std::string, std::string>>();
    return plan;
  } catch (const json::exception& e) {
    throw Error(ErrorKind::Permanent, std::string("the catalog's resync plan is not readable: ") + e.what());
  }
}

std::string resync_table_name(const std::string& target) { return target + "_resync"; }

std::vector<std::string> resync_tables(const PipeSpec& pipe, const std::string& table) {
  std::vector<std::string> out;
  for (const auto& m : pipe.tables) {
    if (table.empty() || table == m.source || table == split_qualified(m.source).name ||
        table == destination_table_name(m))
      out.push_back(m.source);
  }
  if (out.empty() && !table.empty()) {
    std::string names;
    for (const auto& m : pipe.tables) names += (names.empty() ? "" : ", ") + m.source;
    throw Error(ErrorKind::Config,
                fmt::format("pipe '{}' has no table '{}'; its tables are: {}", pipe.name, table, names));
  }
  // The rebuilt copy must not take the name of a table the pipe writes.
  for (const auto& m : pipe.tables) {
    if (std::find(out.begin(), out.end(), m.source) == out.end()) continue;
    std::string rebuilt = resync_table_name(destination_table_name(m));
    for (const auto& other : pipe.tables)
      if (destination_table_name(other) == rebuilt)
        throw Error(ErrorKind::Config,
                    fmt::format("pipe '{}' writes table '{}', the name resync would use for the rebuilt copy of "
                                "'{}'; give one of them another destination name",
                                pipe.name, rebuilt, destination_table_name(m)));
  }
  if (out.size() > 1 && !table.empty())
    throw Error(ErrorKind::Config, fmt::format("table '{}' names several tables of pipe '{}'; use the schema-qualified "
                                               "source name", table, pipe.name));
  return out;
}

bool resync_swap_pending(Destination& dest, const std::string& target, const ResyncPlan& plan) {
  const std::string rebuilt = resync_table_name(target);
  auto id = plan.rebuilt_identity.find(target);
  if (id != plan.rebuilt_identity.end() && !id->second.empty() && dest.table_identity(target) == id->second)
    return false;  // exchanged: `rebuilt` now holds the old rows
  recover_interrupted_swap(dest, target, rebuilt);
  return dest.table_exists(rebuilt);
}

void swap_in_resync_tables(Destination& dest, const std::vector<std::string>& targets, ResyncPlan& plan,
                           const std::function<void(const ResyncPlan&)>& save, const TestHooks* hooks) {
  if (targets.empty()) return;
  if (dest.can_exchange_tables()) {
    for (const auto& t : targets) plan.rebuilt_identity[t] = dest.table_identity(resync_table_name(t));
    save(plan);
    for (const auto& t : targets) {
      if (dest.table_exists(t)) dest.exchange_tables(resync_table_name(t), t);
      else dest.rename_table(resync_table_name(t), t);
    }
    if (hooks) hooks->crash_point("resync-swapped");
    for (const auto& t : targets) dest.drop_table(resync_table_name(t));  // the old rows
    return;
  }
  std::vector<std::pair<std::string, std::string>> renames;
  for (const auto& t : targets) {
    dest.drop_table(old_table_name(t));
    if (dest.table_exists(t)) renames.emplace_back(t, old_table_name(t));
    renames.emplace_back(resync_table_name(t), t);
  }
  dest.rename_tables(renames);
  if (hooks) hooks->crash_point("resync-swapped");
  for (const auto& t : targets) dest.drop_table(old_table_name(t));
}

void remove_resync_leftovers(Destination& dest, const std::string& target) {
  recover_interrupted_swap(dest, target, resync_table_name(target));
  if (dest.table_exists(resync_table_name(target))) {
    spdlog::info("dropping {} left by an earlier resync", resync_table_name(target));
    dest.drop_table(resync_table_name(target));
  }
}

}  // namespace ferry
