#include "pipe/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/kafka/kafka_settings.h"
#include "core/error.h"
#include "core/ident.h"
#include "pipe/config_reader.h"
#include "pipe/connection_strings.h"

namespace ferry {

// ---------------------------------------------------------------------------
// Public helpers

const EnvLookup& process_env() {
  static const EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
  return env;
}

std::string ConfigProblem::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

std::string format_problems(const std::vector<ConfigProblem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += '\n';
    out += p.to_string();
  }
  return out;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<std::string> closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_d = 3;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------

namespace {

using namespace config_detail;

const std::vector<std::string> kTopKeys = {"peers", "pipes"};
const std::vector<std::string> kPeerKeys = [] {
  std::vector<std::string> keys = {"type", "dsn", "path", "url", "host", "port", "database", "user", "password_env"};
  for (const auto& k : kafka::option_keys()) keys.push_back(k);
  return keys;
}();
const std::vector<std::string> kPipeKeys = {"source", "destination", "mode", "tables", "settings"};
const std::vector<std::string> kTableKeys = {"source",  "destination", "order_by", "exclude_columns",
                                             "cursor", "initial_value", "column_types"};
const std::vector<std::string> kSettingsKeys = {"batch_size",       "sync_interval", "snapshot_parallelism",
                                                "snapshot_rows_per_partition", "increment_delay",
                                                "schedule",         "max_retries",   "retry_backoff_max",
                                                "on_unrepresentable", "soft_delete"};
const std::vector<std::string> kPolicies = {"fail", "text", "null", "clamp"};
const std::vector<std::string> kPeerTypes = {"postgres", "mysql", "clickhouse", "sqlite", "kafka"};
const std::vector<std::string> kModes = {"snapshot", "cdc", "snapshot+cdc", "incremental"};


std::vector<std::string> allowed_peer_keys(PeerType t) {
  switch (t) {
    case PeerType::Postgres: return {"type", "dsn", "schema", "user", "password_env"};
    case PeerType::ClickHouse: return {"type", "url", "database", "user", "password_env"};
    case PeerType::MySQL: return {"type", "dsn", "host", "port", "database", "user", "password_env"};
    case PeerType::SQLite: return {"type", "dsn", "path"};
    case PeerType::Kafka: {
      std::vector<std::string> keys = {"type", "user", "password_env"};
      for (const auto& k : kafka::option_keys()) keys.push_back(k);
      return keys;
    }
  }
  return {};
}

// ---------------------------------------------------------------------------
// Peers

void read_peer(Collector& c, const Entry& pe, const EnvLookup& env, Config& cfg) {
  const std::string& name = pe.key;
  std::string path = child("peers", name);
  PeerSpec peer;
  peer.name = name;
  const std::string peer_expected =
      "a map with keys type, dsn, url, host, port, database, user, password_env";

  if (!valid_name(name)) {
    c.add(pe.key_line, path, name.empty() ? "peer name is empty" : "peer name " + qt(name) + " has characters that are not allowed",
          kNameExpected);
  }
  if (!pe.value.IsMap()) {
    c.add(pe.line, path, "peer is " + describe(pe.value), peer_expected);
    c.bad.insert(child(path, "type"));  // unusable: don't judge pipes by its type
    cfg.peers.emplace(name, peer);
    return;
  }
  MapView m = read_map(c, pe.value, path, "key");

  // `password:` gets its own message; other unknown keys the generic one.
  for (const auto& e : m.entries) {
    if (e.key == "password") {
      c.add(e.key_line, child(path, "password"),
            "passwords are not allowed in the config file",
            "password_env: NAME_OF_ENVIRONMENT_VARIABLE holding the password");
    } else if (std::find(kPeerKeys.begin(), kPeerKeys.end(), e.key) == kPeerKeys.end()) {
      std::string lower = e.key;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
      std::string hint = lower.find("pass") != std::string::npos || lower.find("pwd") != std::string::npos
                             ? " (did you mean 'password_env'?)"
                             : did_you_mean(e.key, kPeerKeys);
      c.add(e.key_line, child(path, e.key),
            "unknown key " + qt(e.key) + " in a peer" + hint,
            "one of: " + join(kPeerKeys));
    }
  }

  // type
  std::string type_path = child(path, "type");
  std::optional<PeerType> type;
  if (const Entry* e = m.get("type")) {
    if (auto s = get_string(c, *e, type_path, "one of: " + join(kPeerTypes))) {
      type = peer_type_from_string(*s);
      if (!type)
        c.add(e->line, type_path, "unknown peer type " + qt(*s) + did_you_mean(*s, kPeerTypes),
              "one of: " + join(kPeerTypes));
    }
  } else {
    c.add(pe.line, type_path, "missing required key 'type'", "one of: " + join(kPeerTypes));
  }

  if (type) {
    peer.type = *type;
    const char* tname = to_string(*type);
    std::vector<std::string> allowed = allowed_peer_keys(*type);
    for (const auto& e : m.entries) {
      if (std::find(kPeerKeys.begin(), kPeerKeys.end(), e.key) == kPeerKeys.end()) continue;  // reported above
      if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) continue;
      c.add(e.key_line, child(path, e.key), "key " + qt(e.key) + " does not apply to a " + tname + " peer",
            "only: " + join(allowed));
    }
  }

  auto str = [&](const char* key, const std::string& expected, bool show_value = true) -> std::optional<std::string> {
    const Entry* e = m.get(key);
    if (!e) return std::nullopt;
    return get_string(c, *e, child(path, key), expected, false, show_value);
  };
  auto require = [&](const char* key, const std::string& expected) {
    c.add(pe.line, child(path, key), std::string("missing required key '") + key + "'", expected);
  };
  auto no_password_in = [&](const char* key, const std::string& value) {
    if (!dsn_has_password(value)) return true;
    c.add(m.get(key)->line, child(path, key), std::string("the ") + key + " contains a password",
          std::string("no password in the ") + key + "; put it in an environment variable named by password_env");
    return false;
  };

  if (type == PeerType::Postgres) {
    const std::string exp = "a libpq connection string like \"host=127.0.0.1 port=5432 dbname=shop user=ferry\"";
    if (auto s = str("dsn", exp, false)) {
      if (no_password_in("dsn", *s)) peer.dsn = *s;
    } else if (!m.get("dsn")) {
      require("dsn", exp);
    }
    if (m.get("schema")) {
      if (auto s = str("schema", "a schema name (the destination tables' schema)")) peer.schema = *s;
    }
  } else if (type == PeerType::ClickHouse) {
    const std::string exp = "an HTTP URL like \"http://127.0.0.1:8123\"";
    if (auto s = str("url", exp, false)) {
      if (s->rfind("http://", 0) != 0 && s->rfind("https://", 0) != 0) {
        c.add(m.get("url")->line, child(path, "url"), "url does not start with http:// or https://", exp);
      } else if (no_password_in("url", *s)) {
        peer.url = *s;
      }
    } else if (!m.get("url")) {
      require("url", exp);
    }
  } else if (type == PeerType::SQLite) {
    const std::string exp = "the path of the SQLite database file (key dsn or path)";
    const Entry* d = m.get("dsn");
    const Entry* p = m.get("path");
    if (d && p) {
      c.add(p->key_line, child(path, "path"), "both dsn and path are given", "only one of dsn or path");
    } else if (d || p) {
      if (auto s = str(d ? "dsn" : "path", exp)) peer.dsn = *s;
    } else {
      require("dsn", exp);
    }
  } else if (type == PeerType::MySQL) {
    const std::string exp = "either dsn: \"mysql://user@host:port/database\" or host (with optional port, database, user)";
    const Entry* d = m.get("dsn");
    if (d) {
      for (const char* k : {"host", "port", "database", "user"}) {
        if (const Entry* e = m.get(k))
          c.add(e->key_line, child(path, k), std::string("key '") + k + "' is given together with dsn",
                "either dsn: \"mysql://user@host:port/database\" or host/port/database/user, not both");
      }
      if (auto s = str("dsn", exp, false)) {
        std::string why;
        if (auto u = parse_mysql_url(*s, why)) {
          peer.dsn = *s;
          peer.host = u->host;
          peer.port = u->port;
          peer.database = u->database;
          peer.user = u->user;
        } else {
          c.add(d->line, child(path, "dsn"), "the dsn " + why,
                why == "contains a password" ? "no password in the dsn; put it in an environment variable named by password_env"
                                             : "a URL like \"mysql://user@host:3306/database\"");
        }
      }
    } else {
      if (auto s = str("host", "a host name or IP address")) peer.host = *s;
      else if (!m.get("host")) require("host", exp);
      peer.port = 3306;
      if (const Entry* e = m.get("port")) {
        std::string pp = child(path, "port");
        if (auto v = get_integer(c, *e, pp, "an integer port from 1 to 65535")) {
          if (*v < 1 || *v > 65535) c.add(e->line, pp, "port " + std::to_string(*v) + " is out of range", "an integer port from 1 to 65535");
          else peer.port = static_cast<int>(*v);
        }
      }
      if (auto s = str("database", "a database name")) peer.database = *s;
      if (auto s = str("user", "a user name")) peer.user = *s;
    }
  }
  if (type == PeerType::ClickHouse) {
    if (auto s = str("database", "a database name")) peer.database = *s;
  }
  if (type == PeerType::Kafka) {
    for (const auto& k : kafka::option_keys())
      if (auto s = str(k.c_str(), "a " + k + " value")) peer.options[k] = *s;
    if (auto s = str("user", "a user name")) peer.user = *s;
  }
  if (type == PeerType::Postgres || type == PeerType::ClickHouse) {
    if (auto s = str("user", "a user name")) peer.user = *s;
  }

  if (const Entry* e = m.get("password_env"); e && type != PeerType::SQLite) {
    std::string pp = child(path, "password_env");
    const std::string exp = "the name of an environment variable like SHOP_PG_PASSWORD";
    if (auto s = get_string(c, *e, pp, exp)) {
      if (!valid_env_name(*s)) {
        c.add(e->line, pp, qt(*s) + " is not an environment variable name", exp + " (letters, digits and '_')");
      } else {
        peer.password_env = *s;
        if (env) {
          if (auto v = env(*s)) peer.password = *v;
          else
            c.add(e->line, pp, "environment variable " + *s + " is not set",
                  "the environment variable " + *s + " to hold the password of peer " + qt(name));
        }
      }
    }
  }
  if (type == PeerType::Kafka) {  // values and combinations (the keys are known here)
    try {
      kafka::parse_settings(peer);
    } catch (const Error& e) {
      c.add(pe.line, path, e.what(), "kafka settings as README \"Kafka destination\" describes");
    }
  }
  cfg.peers.emplace(name, std::move(peer));
}

// ---------------------------------------------------------------------------
// Pipes

// nullopt when the entry is unusable (a problem was reported).
std::optional<TableMapping> read_table(Collector& c, const YAML::Node& item, const std::string& path, int line) {
  TableMapping t;
  const std::string source_exp = "a source table name like public.orders";
  const std::string table_exp = "a table name like public.orders, or a map with keys " + join(kTableKeys);
  c.see(path, line);
  if (item.IsScalar()) {
    if (item.Scalar().empty()) {
      c.add(line, child(path, "source"), "table source is an empty string", source_exp);
      return std::nullopt;
    }
    t.source = item.Scalar();
  } else if (!item.IsMap()) {
    c.add(line, path, "table is " + describe(item), table_exp);
    return std::nullopt;
  } else {
    MapView m = read_map(c, item, path, "key");
    check_keys(c, m, path, kTableKeys, "a table");
    if (const Entry* e = m.get("source")) {
      if (auto s = get_string(c, *e, child(path, "source"), source_exp)) t.source = *s;
    } else {
      c.add(line, child(path, "source"), "missing required key 'source'", source_exp);
    }
    if (const Entry* e = m.get("destination")) {
      if (auto s = get_string(c, *e, child(path, "destination"), "a destination table name")) t.destination = *s;
    }
    const std::string cols_exp = "a list of column names like [customer_id, created_at]";
    if (const Entry* e = m.get("order_by")) {
      if (auto v = get_string_list(c, *e, child(path, "order_by"), cols_exp)) t.order_by = *v;
    }
    if (const Entry* e = m.get("exclude_columns")) {
      if (auto v = get_string_list(c, *e, child(path, "exclude_columns"), cols_exp)) t.exclude_columns = *v;
    }
    if (const Entry* e = m.get("cursor")) {
      if (auto s = get_string(c, *e, child(path, "cursor"), "the name of the cursor column")) t.cursor = *s;
    }
    if (const Entry* e = m.get("column_types")) {
      std::string tp = child(path, "column_types");
      const std::string types_exp = "a map of column name to destination type, like {birth_date: String}";
      if (e->value.IsMap()) {
        for (const Entry& ce : read_map(c, e->value, tp, "column name").entries)
          if (auto ty = get_string(c, ce, child(tp, ce.key), "a destination type like String or Nullable(Int64)"))
            t.column_types[ce.key] = *ty;
      } else if (e->value.IsDefined() && !e->value.IsNull()) {
        c.add(e->line, tp, "column_types is " + describe(e->value), types_exp);
      }
    }
    if (const Entry* e = m.get("initial_value")) {
      std::string ip = child(path, "initial_value");
      if (e->value.IsDefined() && !e->value.IsNull()) {
        if (e->value.IsScalar()) t.initial_value = e->value.Scalar();
        else c.add(e->line, ip, "is " + describe(e->value), "a single value of the cursor column, like 0 or \"2024-01-01\"");
      }
    }
  }
  if (t.destination.empty() && !t.source.empty() && !c.is_bad(child(path, "destination")))
    t.destination = split_qualified(t.source).name;
  return t;
}

void read_settings(Collector& c, const Entry& se, const std::string& path, PipeSettings& s) {
  if (!se.value.IsDefined() || se.value.IsNull()) return;
  if (!se.value.IsMap()) {
    c.add(se.line, path, "settings is " + describe(se.value), "a map with keys " + join(kSettingsKeys));
    return;
  }
  MapView m = read_map(c, se.value, path, "key");
  check_keys(c, m, path, kSettingsKeys, "settings");
  auto integer = [&](const char* key, const std::string& expected, auto& field) {
    const Entry* e = m.get(key);
    if (!e) return;
    std::string p = child(path, key);
    auto v = get_integer(c, *e, p, expected);
    if (!v) return;
    using T = std::decay_t<decltype(field)>;
    if (*v < static_cast<long long>(std::numeric_limits<T>::min()) ||
        *v > static_cast<long long>(std::numeric_limits<T>::max())) {
      c.add(e->line, p, std::to_string(*v) + " is out of range", expected);
      return;
    }
    field = static_cast<T>(*v);
  };
  auto duration = [&](const char* key, Millis& field) {
    const Entry* e = m.get(key);
    if (!e) return;
    if (auto d = get_duration(c, *e, child(path, key))) field = *d;
  };
  integer("batch_size", "a positive integer (rows per batch)", s.batch_size);
  duration("sync_interval", s.sync_interval);
  integer("snapshot_parallelism", "an integer from 1 to " + std::to_string(kMaxParallelism), s.snapshot_parallelism);
  integer("snapshot_rows_per_partition", "a positive integer (rows per snapshot partition)", s.snapshot_rows_per_partition);
  duration("increment_delay", s.increment_delay);
  duration("schedule", s.schedule);
  integer("max_retries", "a non-negative integer", s.max_retries);
  duration("retry_backoff_max", s.retry_backoff_max);
  if (const Entry* e = m.get("soft_delete")) {
    std::string p = child(path, "soft_delete");
    if (auto v = get_string(c, *e, p, "true or false")) {
      if (*v == "true" || *v == "false") s.soft_delete = *v == "true";
      else c.add(e->line, p, qt(*v) + " is not a boolean", "true or false");
    }
  }
  if (const Entry* e = m.get("on_unrepresentable")) {
    const std::string exp = "one of: " + join(kPolicies);
    std::string p = child(path, "on_unrepresentable");
    if (auto v = get_string(c, *e, p, exp)) {
      if (auto policy = on_unrepresentable_from_string(*v)) s.on_unrepresentable = *policy;
      else c.add(e->line, p, "unknown policy " + qt(*v) + did_you_mean(*v, kPolicies), exp);
    }
  }
}

void read_pipe(Collector& c, const Entry& pe, Config& cfg) {
  const std::string& name = pe.key;
  std::string path = child("pipes", name);
  if (!pe.value.IsMap()) {
    c.add(pe.line, path, "pipe is " + describe(pe.value), "a map with keys " + join(kPipeKeys));
    return;
  }
  PipeSpec pipe;
  pipe.name = name;
  MapView m = read_map(c, pe.value, path, "key");
  check_keys(c, m, path, kPipeKeys, "a pipe");

  auto peer_ref = [&](const char* key, std::string& out) {
    std::string p = child(path, key);
    const std::string exp = "the name of a peer defined under peers";
    if (const Entry* e = m.get(key)) {
      if (auto s = get_string(c, *e, p, exp)) out = *s;
    } else {
      c.add(pe.line, p, std::string("missing required key '") + key + "'", exp);
    }
  };
  peer_ref("source", pipe.source);
  peer_ref("destination", pipe.destination);

  std::string mode_path = child(path, "mode");
  const std::string mode_exp = "one of: " + join(kModes);
  if (const Entry* e = m.get("mode")) {
    if (auto s = get_string(c, *e, mode_path, mode_exp)) {
      if (auto md = pipe_mode_from_string(*s)) pipe.mode = *md;
      else c.add(e->line, mode_path, "unknown mode " + qt(*s) + did_you_mean(*s, kModes), mode_exp);
    }
  } else {
    c.add(pe.line, mode_path, "missing required key 'mode'", mode_exp);
  }

  std::string tables_path = child(path, "tables");
  const std::string tables_exp = "a list of tables, each a name like public.orders or a map with keys " + join(kTableKeys);
  if (const Entry* e = m.get("tables")) {
    if (!e->value.IsSequence()) {
      c.add(e->line, tables_path, "tables is " + describe(e->value) + ", not a list", tables_exp);
    } else {
      for (size_t i = 0; i < e->value.size(); ++i) {
        YAML::Node item = e->value[i];
        std::string tp = index_path(tables_path, i);
        if (auto t = read_table(c, item, tp, node_line(item, e->line))) {
          pipe.tables.push_back(std::move(*t));
        } else {
          // keep indices aligned with the file so that later messages name the right entry
          pipe.tables.emplace_back();
          c.bad.insert(tp);
        }
      }
    }
  } else {
    c.add(pe.line, tables_path, "missing required key 'tables'", tables_exp);
  }

  if (const Entry* e = m.get("settings")) read_settings(c, *e, child(path, "settings"), pipe.settings);

  cfg.pipe_order.push_back(name);
  cfg.pipes.emplace(name, std::move(pipe));
}

void sort_problems(std::vector<ConfigProblem>& v) {
  std::stable_sort(v.begin(), v.end(), [](const ConfigProblem& a, const ConfigProblem& b) { return a.line < b.line; });
}

}  // namespace

// ---------------------------------------------------------------------------

ConfigCheck check_config(const std::string& yaml_text, const std::string& file, const EnvLookup& env) {
  ConfigCheck out;
  out.config.file = file;
  Collector c;
  c.file = file;

  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    int line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    c.add(line, "", "YAML syntax error: " + e.msg, "valid YAML");
    out.problems = std::move(c.problems);
    return out;
  }

  const std::string top_exp = "a map with the keys peers and pipes";
  if (!root.IsDefined() || root.IsNull()) {
    c.add(0, "", "the file is empty", top_exp);
  } else if (!root.IsMap()) {
    c.add(node_line(root, 1), "", "the top level is " + describe(root), top_exp);
  } else {
    MapView top = read_map(c, root, "", "key");
    check_keys(c, top, "", kTopKeys, "the top level");

    if (const Entry* e = top.get("peers")) {
      if (e->value.IsMap()) {
        MapView peers = read_map(c, e->value, "peers", "peer name");
        for (const auto& pe : peers.entries) read_peer(c, pe, env, out.config);
      } else if (e->value.IsDefined() && !e->value.IsNull()) {
        c.add(e->line, "peers", "peers is " + describe(e->value), "a map of peer name to peer settings");
        c.peers_unusable = true;
      }
    }
    if (const Entry* e = top.get("pipes")) {
      if (e->value.IsMap()) {
        MapView pipes = read_map(c, e->value, "pipes", "pipe name");
        for (const auto& pe : pipes.entries) read_pipe(c, pe, out.config);
      } else if (e->value.IsDefined() && !e->value.IsNull()) {
        c.add(e->line, "pipes", "pipes is " + describe(e->value), "a map of pipe name to pipe settings");
      }
    }
    for (const auto& name : out.config.pipe_order) validate_pipe_impl(c, out.config.pipes.at(name), out.config.peers);
  }
  sort_problems(c.problems);
  out.problems = std::move(c.problems);
  return out;
}

ConfigCheck check_config_file(const std::string& path, const EnvLookup& env) {
  auto fail = [&](const std::string& what) {
    ConfigCheck out;
    out.config.file = path;
    out.problems.push_back({path, 0, "", what + "; expected a readable YAML config file"});
    return out;
  };
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return fail("cannot read the file: it does not exist");
  if (std::filesystem::is_directory(path, ec)) return fail("cannot read the file: it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(std::string("cannot open the file: ") + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return fail("cannot read the file");
  return check_config(ss.str(), path, env);
}

Config parse_config(const std::string& yaml_text, const std::string& file, const EnvLookup& env) {
  ConfigCheck r = check_config(yaml_text, file, env);
  if (!r.ok()) throw config_error(format_problems(r.problems));
  return std::move(r.config);
}

Config load_config_file(const std::string& path, const EnvLookup& env) {
  ConfigCheck r = check_config_file(path, env);
  if (!r.ok()) throw config_error(format_problems(r.problems));
  return std::move(r.config);
}

std::vector<ConfigProblem> validate_pipe(const PipeSpec& pipe, const std::map<std::string, PeerSpec>& peers,
                                         const std::string& file) {
  Collector c;
  c.file = file;
  validate_pipe_impl(c, pipe, peers);
  return std::move(c.problems);
}

void resolve_password(PeerSpec& peer, const EnvLookup& env) {
  if (peer.password_env.empty()) return;
  if (!env) return;
  auto v = env(peer.password_env);
  if (!v)
    throw config_error("peer " + qt(peer.name) + ": environment variable " + peer.password_env +
                       " is not set; expected it to hold the password of peer " + qt(peer.name));
  peer.password = *v;
}

}  // namespace ferry
