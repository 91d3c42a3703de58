#include "pipe/spec_json.h"

#include <limits>

#include "core/error.h"

namespace ferry {

using nlohmann::json;

namespace {

[[noreturn]] void bad_field(const std::string& where, const std::string& field, const std::string& expected) {
  throw config_error(where + "." + field + ": " + expected);
}

const json* field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

void require_object(const json& j, const std::string& where) {
  if (!j.is_object()) throw config_error(where + ": expected a JSON object, got " + std::string(j.type_name()));
}

std::string get_str(const json& j, const char* name, const std::string& where, bool required,
                    const std::string& fallback = "") {
  const json* v = field(j, name);
  if (!v) {
    if (required) bad_field(where, name, "missing; expected a string");
    return fallback;
  }
  if (!v->is_string()) bad_field(where, name, std::string("is ") + v->type_name() + "; expected a string");
  return v->get<std::string>();
}

template <class T>
void get_int(const json& j, const char* name, const std::string& where, T& out) {
  const json* v = field(j, name);
  if (!v) return;
  if (!v->is_number_integer()) bad_field(where, name, std::string("is ") + v->type_name() + "; expected an integer");
  long long x = v->get<long long>();
  if (v->is_number_unsigned() && v->get<unsigned long long>() > static_cast<unsigned long long>(std::numeric_limits<T>::max()))
    bad_field(where, name, "is out of range; expected an integer");
  if (x < static_cast<long long>(std::numeric_limits<T>::min()) || x > static_cast<long long>(std::numeric_limits<T>::max()))
    bad_field(where, name, "is out of range; expected an integer");
  out = static_cast<T>(x);
}

void get_duration(const json& j, const char* name, const std::string& where, Millis& out) {
  const json* v = field(j, name);
  if (!v) return;
  if (!v->is_string()) bad_field(where, name, std::string("is ") + v->type_name() + "; expected a duration string like \"15s\"");
  auto d = parse_duration(v->get<std::string>());
  if (!d) bad_field(where, name, "is not a duration; expected a duration string like \"15s\"");
  out = *d;
}

std::vector<std::string> get_str_list(const json& j, const char* name, const std::string& where) {
  const json* v = field(j, name);
  if (!v) return {};
  if (!v->is_array()) bad_field(where, name, std::string("is ") + v->type_name() + "; expected a list of strings");
  std::vector<std::string> out;
  for (const auto& x : *v) {
    if (!x.is_string()) bad_field(where, name, "has a " + std::string(x.type_name()) + " element; expected a list of strings");
    out.push_back(x.get<std::string>());
  }
  return out;
}

void put_if(json& j, const char* name, const std::string& v) {
  if (!v.empty()) j[name] = v;
}

}  // namespace

// --- PeerSpec --------------------------------------------------------------

void to_json(json& j, const PeerSpec& p) {
  j = json::object();
  j["name"] = p.name;
  j["type"] = to_string(p.type);
  put_if(j, "dsn", p.dsn);
  put_if(j, "url", p.url);
  put_if(j, "host", p.host);
  if (p.port != 0) j["port"] = p.port;
  put_if(j, "database", p.database);
  put_if(j, "schema", p.schema);
  put_if(j, "user", p.user);
  put_if(j, "password_env", p.password_env);
  if (!p.options.empty()) j["options"] = p.options;
  // p.password: never serialised.
}

void from_json(const json& j, PeerSpec& p) {
  const std::string where = "peer";
  require_object(j, where);
  PeerSpec out;
  out.name = get_str(j, "name", where, false);
  std::string type = get_str(j, "type", where, true);
  auto t = peer_type_from_string(type);
  if (!t) bad_field(where, "type", "unknown peer type; expected one of: postgres, mysql, clickhouse, sqlite, kafka");
  out.type = *t;
  out.dsn = get_str(j, "dsn", where, false);
  out.url = get_str(j, "url", where, false);
  out.host = get_str(j, "host", where, false);
  get_int(j, "port", where, out.port);
  out.database = get_str(j, "database", where, false);
  out.schema = get_str(j, "schema", where, false);
  out.user = get_str(j, "user", where, false);
  out.password_env = get_str(j, "password_env", where, false);
  if (auto it = j.find("options"); it != j.end()) {
    if (!it->is_object()) bad_field(where, "options", "expected an object of strings");
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) bad_field(where, "options", "expected an object of strings");
      out.options[k] = v.get<std::string>();
    }
  }
  p = std::move(out);
}

// --- TableMapping ----------------------------------------------------------

void to_json(json& j, const TableMapping& t) {
  j = json::object();
  j["source"] = t.source;
  j["destination"] = t.destination;
  j["order_by"] = t.order_by;
  j["exclude_columns"] = t.exclude_columns;
  put_if(j, "cursor", t.cursor);
  if (t.initial_value) j["initial_value"] = *t.initial_value;
  if (!t.column_types.empty()) j["column_types"] = t.column_types;
}

namespace {
TableMapping table_from_json(const json& j, const std::string& where) {
  require_object(j, where);
  TableMapping out;
  out.source = get_str(j, "source", where, true);
  out.destination = get_str(j, "destination", where, false);
  out.order_by = get_str_list(j, "order_by", where);
  out.exclude_columns = get_str_list(j, "exclude_columns", where);
  out.cursor = get_str(j, "cursor", where, false);
  if (field(j, "initial_value")) out.initial_value = get_str(j, "initial_value", where, false);
  if (const json* ct = field(j, "column_types")) {
    if (!ct->is_object()) throw Error(ErrorKind::Config, where + ": column_types is not an object");
    for (const auto& [col, type] : ct->items()) {
      if (!type.is_string()) throw Error(ErrorKind::Config, where + ": column_types." + col + " is not a string");
      out.column_types[col] = type.get<std::string>();
    }
  }
  return out;
}
}  // namespace

void from_json(const json& j, TableMapping& t) { t = table_from_json(j, "table"); }

// --- PipeSettings ----------------------------------------------------------

void to_json(json& j, const PipeSettings& s) {
  j = json::object();
  j["batch_size"] = s.batch_size;
  j["sync_interval"] = format_duration(s.sync_interval);
  j["snapshot_parallelism"] = s.snapshot_parallelism;
  j["snapshot_rows_per_partition"] = s.snapshot_rows_per_partition;
  j["increment_delay"] = format_duration(s.increment_delay);
  j["schedule"] = format_duration(s.schedule);
  j["max_retries"] = s.max_retries;
  j["retry_backoff_max"] = format_duration(s.retry_backoff_max);
  j["on_unrepresentable"] = to_string(s.on_unrepresentable);
  j["soft_delete"] = s.soft_delete;
}

namespace {
PipeSettings settings_from_json(const json& j, const std::string& where) {
  require_object(j, where);
  PipeSettings out;  // defaults for whatever is missing
  get_int(j, "batch_size", where, out.batch_size);
  get_duration(j, "sync_interval", where, out.sync_interval);
  get_int(j, "snapshot_parallelism", where, out.snapshot_parallelism);
  get_int(j, "snapshot_rows_per_partition", where, out.snapshot_rows_per_partition);
  get_duration(j, "increment_delay", where, out.increment_delay);
  get_duration(j, "schedule", where, out.schedule);
  get_int(j, "max_retries", where, out.max_retries);
  get_duration(j, "retry_backoff_max", where, out.retry_backoff_max);
  if (field(j, "soft_delete")) {
    if (!j["soft_delete"].is_boolean()) throw Error(ErrorKind::Config, where + ": soft_delete must be true or false");
    out.soft_delete = j["soft_delete"].get<bool>();
  }
  if (field(j, "on_unrepresentable")) {
    std::string v = get_str(j, "on_unrepresentable", where, false);
    auto policy = on_unrepresentable_from_string(v);
    if (!policy) throw Error(ErrorKind::Config, where + ": on_unrepresentable '" + v + "' is not fail, text, null or clamp");
    out.on_unrepresentable = *policy;
  }
  return out;
}
}  // namespace

void from_json(const json& j, PipeSettings& s) { s = settings_from_json(j, "settings"); }

// --- PipeSpec --------------------------------------------------------------

void to_json(json& j, const PipeSpec& p) {
  j = json::object();
  j["name"] = p.name;
  j["source"] = p.source;
  j["destination"] = p.destination;
  j["mode"] = to_string(p.mode);
  j["tables"] = p.tables;
  j["settings"] = p.settings;
}

void from_json(const json& j, PipeSpec& p) {
  const std::string where = "pipe";
  require_object(j, where);
  PipeSpec out;
  out.name = get_str(j, "name", where, true);
  out.source = get_str(j, "source", where, true);
  out.destination = get_str(j, "destination", where, true);
  std::string mode = get_str(j, "mode", where, true);
  auto m = pipe_mode_from_string(mode);
  if (!m) bad_field(where, "mode", "unknown mode; expected one of: snapshot, cdc, snapshot+cdc, incremental");
  out.mode = *m;
  const json* tables = field(j, "tables");
  if (!tables) bad_field(where, "tables", "missing; expected a list of tables");
  if (!tables->is_array()) bad_field(where, "tables", std::string("is ") + tables->type_name() + "; expected a list of tables");
  for (size_t i = 0; i < tables->size(); ++i)
    out.tables.push_back(table_from_json((*tables)[i], where + ".tables[" + std::to_string(i) + "]"));
  if (const json* s = field(j, "settings")) out.settings = settings_from_json(*s, where + ".settings");
  p = std::move(out);
}

// --- strings ---------------------------------------------------------------

std::string pipe_spec_to_json(const PipeSpec& p) { return json(p).dump(); }

PipeSpec pipe_spec_from_json(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw config_error("pipe spec: not valid JSON; expected a JSON object");
  return j.get<PipeSpec>();
}

std::string peer_spec_to_json(const PeerSpec& p) { return json(p).dump(); }

PeerSpec peer_spec_from_json(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw config_error("peer spec: not valid JSON; expected a JSON object");
  return j.get<PeerSpec>();
}

}  // namespace ferry
