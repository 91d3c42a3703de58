// Semantic checks of pipes (names, peers, modes, tables, settings), after the YAML was read.
#include <algorithm>
#include <set>

#include "core/ident.h"
#include "pipe/capability_check.h"
#include "pipe/config_reader.h"

namespace ferry::config_detail {

namespace {

void check_columns(Collector& c, const std::vector<std::string>& cols, const std::string& path) {
  std::set<std::string> seen;
  for (size_t j = 0; j < cols.size(); ++j) {
    std::string p = index_path(path, j);
    if (cols[j].empty()) c.add_at(p, "column name is empty", "a column name");
    else if (!seen.insert(cols[j]).second) c.add_at(p, "column " + qt(cols[j]) + " is listed twice", "each column once");
  }
}

}  // namespace

void validate_pipe_impl(Collector& c, const PipeSpec& p, const std::map<std::string, PeerSpec>& peers) {
  std::string path = child("pipes", p.name);
  if (!valid_name(p.name))
    c.add_at(path, p.name.empty() ? "pipe name is empty" : "pipe name " + qt(p.name) + " has characters that are not allowed",
             kNameExpected);

  std::vector<std::string> peer_names;
  for (const auto& [n, _] : peers) peer_names.push_back(n);
  std::string known_peers = peer_names.empty() ? "a peer defined under peers (none are defined)"
                                                : "one of the peers defined under peers: " + join(peer_names);

  auto peer_of = [&](const char* key, const std::string& ref) -> const PeerSpec* {
    std::string kp = child(path, key);
    if (c.is_bad(kp)) return nullptr;
    if (ref.empty()) {
      c.add_at(kp, std::string("no ") + key + " peer given", known_peers);
      return nullptr;
    }
    auto it = peers.find(ref);
    if (it == peers.end()) {
      if (c.peers_unusable) return nullptr;
      c.add_at(kp, "unknown peer " + qt(ref) + did_you_mean(ref, peer_names), known_peers);
      return nullptr;
    }
    return &it->second;
  };
  const PeerSpec* src = peer_of("source", p.source);
  const PeerSpec* dst = peer_of("destination", p.destination);
  auto type_known = [&](const PeerSpec* peer) { return peer && !c.is_bad(child(child("peers", peer->name), "type")); };
  bool src_known = type_known(src);
  bool dst_known = type_known(dst);
  bool mode_known = !c.is_bad(child(path, "mode"));

  if (src && dst && src == dst)
    c.add_at(child(path, "destination"), "destination is the same peer as source (" + qt(p.source) + ")",
             "a destination peer different from the source");
  else if (dst_known && dst->type == PeerType::SQLite)
    c.add_at(child(path, "destination"),
             "peer " + qt(dst->name) + " is a sqlite peer, which can only be a source",
             "a postgres, mysql or clickhouse peer as destination");
  else if (src_known && src->type == PeerType::Kafka)
    c.add_at(child(path, "source"), "peer " + qt(src->name) + " is a kafka peer, which can only be a destination",
             "a postgres, mysql, clickhouse or sqlite peer as source");

  // Connector types ferry cannot use yet have no capabilities: make_source/make_destination name them.
  if (mode_known && src_known)
    if (auto caps = source_capabilities(src->type))
      if (std::string why = source_mode_problem(p.mode, *caps, src->type); !why.empty())
        c.add_at(child(path, "mode"),
                 std::string("mode '") + to_string(p.mode) + "' " + why + " (source peer " + qt(src->name) + ")",
                 mode_streams(p.mode) ? "mode snapshot or incremental for this source, or a postgres or mysql source"
                                      : "mode snapshot or snapshot+cdc for this source");
  if (mode_known && dst_known)
    if (auto caps = destination_capabilities(dst->type))
      if (std::string why = destination_mode_problem(p.mode, *caps, dst->type); !why.empty())
        c.add_at(child(path, "mode"),
                 std::string("mode '") + to_string(p.mode) + "' " + why + " (destination peer " + qt(dst->name) + ")",
                 "mode snapshot or incremental for this destination");

  if (p.settings.soft_delete && dst_known && dst->type == PeerType::Kafka)
    c.add_at(child(child(path, "settings"), "soft_delete"),
             "soft_delete applies to postgres and mysql destinations, but peer " + qt(dst->name) +
                 " is kafka (its delete envelopes carry the old row)",
             "no soft_delete for this destination");

  std::string tables_path = child(path, "tables");
  if (p.tables.empty() && !c.is_bad(tables_path))
    c.add_at(tables_path, "no tables are listed", "a list with at least one table");

  std::map<std::string, size_t> sources, destinations;
  for (size_t i = 0; i < p.tables.size(); ++i) {
    std::string tp = index_path(tables_path, i);
    if (c.is_bad(tp)) continue;
    const TableMapping& t = p.tables[i];
    std::string sp = child(tp, "source"), dp = child(tp, "destination");
    if (t.source.empty()) {
      c.add_at(sp, "table source is empty", "a source table name like public.orders");
    } else {
      std::string key = src_known && src->type == PeerType::Postgres ? split_qualified(t.source).str()
                                                                      : split_qualified(t.source, "").str();
      auto [it, fresh] = sources.emplace(key, i);
      if (!fresh)
        c.add_at(sp, "source table " + qt(t.source) + " is already listed at tables[" + std::to_string(it->second) + "]",
                 "each source table once per pipe");
    }
    if (t.destination.empty()) {
      if (!t.source.empty()) c.add_at(dp, "destination table name is empty", "a destination table name");
    } else {
      auto [it, fresh] = destinations.emplace(t.destination, i);
      if (!fresh)
        c.add_at(dp,
                 "destination table " + qt(t.destination) + " is also the destination of tables[" +
                     std::to_string(it->second) + "] (" + qt(p.tables[it->second].source) + ")",
                 "each table to have its own destination (set destination: to tell them apart)");
    }
    if (dst_known && dst->type == PeerType::Kafka && !t.source.empty() && t.source.find('.') == std::string::npos)
      c.add_at(sp, "source table " + qt(t.source) + " has no schema, which its kafka topic name needs",
               "the table with its schema or database, like public." + t.source);
    std::string op = child(tp, "order_by"), ep = child(tp, "exclude_columns");
    if (!t.order_by.empty() && dst_known && dst->type != PeerType::ClickHouse)
      c.add_at(op,
               "order_by applies only to a clickhouse destination, but peer " + qt(dst->name) + " is " +
                   to_string(dst->type),
               "no order_by for this destination");
    check_columns(c, t.order_by, op);
    std::string ctp = child(tp, "column_types");
    if (!t.column_types.empty() && dst_known && dst->type == PeerType::Kafka)
      c.add_at(ctp,
               "column_types is only supported for clickhouse, postgres and mysql destinations, but peer " + qt(dst->name) +
                   " is " + to_string(dst->type),
               "no column_types for this destination");
    for (const auto& [col, type] : t.column_types) {
      if (std::find(t.exclude_columns.begin(), t.exclude_columns.end(), col) != t.exclude_columns.end())
        c.add_at(child(ctp, col), "column " + qt(col) + " is both in column_types and in exclude_columns",
                 "a column that is copied (remove it from one of the two)");
      if (type.empty()) c.add_at(child(ctp, col), "the type is empty", "a destination type like String");
    }
    check_columns(c, t.exclude_columns, ep);
    for (size_t j = 0; j < t.exclude_columns.size(); ++j) {
      const std::string& col = t.exclude_columns[j];
      if (std::find(t.order_by.begin(), t.order_by.end(), col) != t.order_by.end())
        c.add_at(index_path(ep, j), "column " + qt(col) + " is both in order_by and in exclude_columns",
                 "an order_by column to be copied (remove it from one of the two lists)");
    }
    std::string cp = child(tp, "cursor"), ip = child(tp, "initial_value");
    if (mode_known && p.mode == PipeMode::Incremental) {
      if (t.cursor.empty())
        c.add_at(cp, "incremental mode needs a cursor column for table " + qt(t.source),
                 "cursor: <a column that grows on every insert and update>");
      else if (std::find(t.exclude_columns.begin(), t.exclude_columns.end(), t.cursor) != t.exclude_columns.end())
        c.add_at(cp, "cursor column " + qt(t.cursor) + " is in exclude_columns",
                 "a cursor column that is copied");
    } else if (mode_known) {
      if (!t.cursor.empty())
        c.add_at(cp, std::string("cursor is only used by incremental pipes, but the mode is '") + to_string(p.mode) + "'",
                 "no cursor, or mode: incremental");
      if (t.initial_value)
        c.add_at(ip, std::string("initial_value is only used by incremental pipes, but the mode is '") + to_string(p.mode) + "'",
                 "no initial_value, or mode: incremental");
    }
  }

  const PipeSettings& s = p.settings;
  std::string sp = child(path, "settings");
  if (s.batch_size <= 0)
    c.add_at(child(sp, "batch_size"), "batch_size is " + std::to_string(s.batch_size), "a positive integer (rows per batch)");
  if (s.snapshot_parallelism < 1 || s.snapshot_parallelism > kMaxParallelism)
    c.add_at(child(sp, "snapshot_parallelism"), "snapshot_parallelism is " + std::to_string(s.snapshot_parallelism),
             "an integer from 1 to " + std::to_string(kMaxParallelism));
  if (s.snapshot_rows_per_partition <= 0)
    c.add_at(child(sp, "snapshot_rows_per_partition"),
             "snapshot_rows_per_partition is " + std::to_string(s.snapshot_rows_per_partition),
             "a positive integer (rows per snapshot partition)");
  if (s.max_retries < 0)
    c.add_at(child(sp, "max_retries"), "max_retries is " + std::to_string(s.max_retries), "a non-negative integer");
  auto positive = [&](const char* key, Millis d) {
    if (d.count() <= 0)
      c.add_at(child(sp, key), std::string(key) + " is " + (d.count() == 0 ? "zero" : "negative"),
               std::string("a duration greater than zero like 500ms, 15s, 5m or 1h30m"));
  };
  positive("sync_interval", s.sync_interval);
  positive("schedule", s.schedule);
  positive("retry_backoff_max", s.retry_backoff_max);
  if (s.increment_delay.count() < 0)
    c.add_at(child(sp, "increment_delay"), "increment_delay is negative", kNonNegativeDurationExpected);
}

}  // namespace ferry::config_detail
