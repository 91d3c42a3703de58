#include "server/api_json.h"

#include <charconv>
#include <regex>

#include <fmt/format.h>

#include "core/clock.h"
#include "pipe/compare_record.h"
#include "pipe/incremental.h"
#include "pipe/unrepresentable.h"

namespace ferry {

using nlohmann::json;

namespace {

std::optional<int64_t> parse_i64(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || p != s->data() + s->size()) return std::nullopt;
  return v;
}

json time_or_null(int64_t ms) { return ms ? json(format_time_utc(ms)) : json(); }

template <class T>
json or_null(const std::optional<T>& v) {
  return v ? json(*v) : json();
}

// Defence in depth: the config refuses passwords inside a dsn or URL, but a
// catalog written by something else might still hold one.
std::string scrub(const std::string& s) {
  static const std::regex dsn_password(R"((password\s*=\s*)('([^'\\]|\\.)*'|\S+))", std::regex::icase);
  static const std::regex url_password(R"((://[^/:@\s]*:)[^@/\s]*@)");
  std::string out = std::regex_replace(s, dsn_password, "$1***");
  return std::regex_replace(out, url_password, "$1***@");
}

}  // namespace

PipeLag pipe_lag(Catalog& catalog, const std::string& pipe) {
  PipeLag lag;
  lag.bytes = parse_i64(catalog.get_meta(pipe, "lag_bytes"));
  lag.last_commit_ms = parse_i64(catalog.get_meta(pipe, "last_commit_time_ms"));
  if (lag.last_commit_ms)
    lag.seconds = static_cast<double>(to_epoch_ms(Clock::system().now()) - *lag.last_commit_ms) / 1000.0;
  return lag;
}

json pipe_tables_json(Catalog& catalog, const std::string& pipe) {
  json out = json::array();
  UnrepresentableTallies tallies = unrepresentable_tallies(catalog, pipe);
  for (const auto& t : catalog.tables(pipe)) {
    json tj;
    tj["source"] = t.source;
    tj["destination"] = t.destination;
    tj["state"] = t.state;
    tj["rows_loaded"] = t.rows_loaded;
    tj["partitions_total"] = t.partitions_total;
    tj["partitions_done"] = t.partitions_done;
    tj["avg_partition_ms"] = t.partitions_done ? t.partition_ms_total / t.partitions_done : 0;
    tj["load_started_at"] = time_or_null(t.load_started_at_ms);
    tj["load_finished_at"] = time_or_null(t.load_finished_at_ms);
    json un = json::object();
    if (auto it = tallies.find(t.source); it != tallies.end())
      for (const auto& [col, tally] : it->second)
        un[col] = {{"count", tally.count}, {"first_value", tally.first_value}};
    tj["unrepresentable"] = std::move(un);
    std::optional<CompareRecord> compared = last_comparison(catalog, pipe, t.source);
    tj["last_compare"] = compared ? to_json(*compared) : json();
    out.push_back(std::move(tj));
  }
  return out;
}

json pipe_status_json(Catalog& catalog, const PipeRecord& rec) {
  json spec = json::parse(rec.spec_json, nullptr, false);
  json j;
  j["name"] = rec.name;
  j["state"] = to_string(rec.state);
  j["mode"] = spec.is_object() && spec.contains("mode") ? spec["mode"] : json();
  j["source"] = spec.is_object() && spec.contains("source") ? spec["source"] : json();
  j["destination"] = spec.is_object() && spec.contains("destination") ? spec["destination"] : json();
  j["settings"] = spec.is_object() && spec.contains("settings") ? spec["settings"] : json::object();
  j["error"] = rec.last_error.empty() ? json() : json(rec.last_error);
  j["retry_count"] = rec.retry_count;
  j["checkpoint"] = or_null(catalog.checkpoint(rec.name, ""));
  PipeLag lag = pipe_lag(catalog, rec.name);
  j["lag_bytes"] = or_null(lag.bytes);
  j["last_commit_at"] = lag.last_commit_ms ? json(format_time_utc(*lag.last_commit_ms)) : json();
  j["lag_seconds"] = or_null(lag.seconds);
  j["updated_at"] = time_or_null(rec.updated_at_ms);
  j["tables"] = pipe_tables_json(catalog, rec.name);
  j["actions"] = pipe_actions_json(rec.state, spec.is_object() && spec.contains("mode") && spec["mode"].is_string()
                                                  ? pipe_mode_from_string(spec["mode"].get<std::string>())
                                                  : std::nullopt);
  // Incremental pipes: cursors, last and next run (pipe/incremental.h).
  if (json inc = incremental_status_json(catalog, rec.name); !inc.is_null()) j["incremental"] = std::move(inc);
  return j;
}

json pipe_actions_json(PipeState state, std::optional<PipeMode> mode) {
  json out = json::object();
  for (const char* name : kApiActions) {
    PipeAction a = *pipe_action_from_string(name);
    ActionOutcome o = apply_action(a, state, mode.value_or(PipeMode::Snapshot));
    const Refusal* r = std::get_if<Refusal>(&o);
    out[name] = {{"allowed", r == nullptr}, {"reason", r ? json(r->message) : json()}};
  }
  return out;
}

json pipe_history_json(Catalog& catalog, const std::string& pipe) {
  json out = json::array();
  for (const auto& h : catalog.history(pipe)) {
    out.push_back({{"at", format_time_utc(h.at_ms)},
                   {"from", h.from ? json(to_string(*h.from)) : json()},
                   {"to", to_string(h.to)},
                   {"reason", h.reason}});
  }
  return out;
}

json peers_json(Catalog& catalog) {
  json out = json::array();
  for (const auto& [name, spec_json] : catalog.list_peers()) {
    json p = json::parse(spec_json, nullptr, false);
    if (!p.is_object()) p = json::object();
    p["name"] = name;
    for (auto it = p.begin(); it != p.end();) {
      std::string key = it.key();
      if (key == "password" || key == "secret" || key == "token") {
        it = p.erase(it);
        continue;
      }
      if (it->is_string() && key != "password_env") *it = scrub(it->get<std::string>());
      ++it;
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::variant<ActionRequest, ApiError> parse_action_request(const std::string& action, const std::string& body) {
  ActionRequest req;
  if (action == "pause") req.action = PipeAction::Pause;
  else if (action == "resume") req.action = PipeAction::Resume;
  else if (action == "resync") req.action = PipeAction::Resync;
  else if (action == "reset") req.action = PipeAction::Reset;
  else if (action == "delete") req.action = PipeAction::Delete;
  else
    return ApiError{400, fmt::format("unknown action '{}'; valid actions: pause, resume, resync, reset, delete, check, compare", action)};

  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return req;
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    return ApiError{400, fmt::format("request body is not valid JSON: {}", e.what())};
  }
  if (j.is_null()) return req;
  if (!j.is_object())
    return ApiError{400, fmt::format("request body is a JSON {}; expected an object like {{\"table\": \"...\", "
                                     "\"clear_destination\": false, \"confirm\": false, \"drop_destination\": false}}",
                                     j.type_name())};
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    bool* flag = key == "clear_destination" ? &req.clear_destination
                 : key == "confirm"         ? &req.confirm
                 : key == "drop_destination" ? &req.drop_destination
                                             : nullptr;
    if (flag) {
      if (v.is_null()) continue;
      if (!v.is_boolean())
        return ApiError{400, fmt::format("field \"{}\" is a {} ({}); expected a boolean (true or false)", key,
                                         v.type_name(), v.dump())};
      *flag = v.get<bool>();
    } else if (key == "table") {
      if (v.is_null()) continue;
      if (!v.is_string())
        return ApiError{400, fmt::format("field \"table\" is a {} ({}); expected a string naming a source table",
                                         v.type_name(), v.dump())};
      req.table = v.get<std::string>();
    } else {
      return ApiError{400, fmt::format("unknown field \"{}\"; valid fields: table, clear_destination, confirm, "
                                       "drop_destination",
                                       key)};
    }
  }
  if (!req.table.empty() && req.action != PipeAction::Resync)
    return ApiError{400, fmt::format("field \"table\" applies to resync only, not to {}", action)};
  return req;
}

std::variant<CompareRequest, ApiError> parse_compare_request(const std::string& body) {
  CompareRequest req;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return req;
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return ApiError{400, "request body is not valid JSON; expected an object like {\"level\": \"content\"}"};
  if (j.is_null()) return req;
  if (!j.is_object())
    return ApiError{400, fmt::format("request body is a JSON {}; expected an object like {{\"table\": \"public.orders\", "
                                     "\"level\": \"content\", \"limit\": 20}}",
                                     j.type_name())};
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (v.is_null() && (key == "table" || key == "level" || key == "limit")) continue;
    if (key == "table") {
      if (!v.is_string())
        return ApiError{400, fmt::format("field \"table\" is a {} ({}); expected a string naming a table of the pipe",
                                         v.type_name(), v.dump())};
      req.table = v.get<std::string>();
    } else if (key == "level") {
      std::string level = v.is_string() ? v.get<std::string>() : "";
      if (level != "objects" && level != "count" && level != "content")
        return ApiError{400, fmt::format("field \"level\" is {}; expected one of \"objects\", \"count\", \"content\"",
                                         v.dump())};
      req.level = parse_compare_level(level);
    } else if (key == "limit") {
      if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > kMaxCompareLimit ||
          (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(kMaxCompareLimit)))
        return ApiError{400, fmt::format("field \"limit\" is {}; expected an integer from 1 to {} (differing keys listed "
                                         "per table)",
                                         v.dump(), kMaxCompareLimit)};
      req.limit = static_cast<size_t>(v.get<int64_t>());
    } else {
      return ApiError{400, fmt::format("unknown field \"{}\"; valid fields: table, level, limit", key)};
    }
  }
  return req;
}

json action_result_json(const ActionResult& r) {
  return {{"message", r.message}, {"state", r.state ? json(to_string(*r.state)) : json()}};
}

json apply_result_json(const ApplyResult& r) {
  json refused = json::array();
  for (const auto& [pipe, report] : r.refused) refused.push_back({{"pipe", pipe}, {"precheck", report}});
  return {{"created", r.created}, {"updated", r.updated}, {"removed", r.removed}, {"unchanged", r.unchanged},
          {"refused", refused}};
}

json error_json(const std::string& message) { return {{"error", message}}; }

}  // namespace ferry
