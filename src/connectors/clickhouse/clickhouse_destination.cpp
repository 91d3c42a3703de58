#include "connectors/clickhouse/clickhouse_destination.h"

#include <cstdlib>

#include "connectors/clickhouse/tsv_encoder.h"
#include "core/error.h"
#include "core/ident.h"
#include "core/log.h"
#include "pipe/spec.h"

namespace ferry::clickhouse {

namespace {

HttpOptions http_options(const PeerSpec& peer) {
  HttpOptions o;
  o.url = peer.url;
  o.user = peer.user;
  o.password = peer.password;
  // No ?database=: the database may not exist yet, and every statement names it.
  return o;
}

std::string trim_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

ClickHouseDestination::ClickHouseDestination(const PeerSpec& peer, DestinationOptions options)
    : ClickHouseDestination(http_options(peer), peer.database, options) {}

ClickHouseDestination::ClickHouseDestination(HttpOptions http, std::string database, DestinationOptions options)
    : client_(std::move(http)), database_(database.empty() ? "default" : std::move(database)), options_(options) {}

std::string ClickHouseDestination::server_version() {
  caps_ = Capabilities::from_version(trim_line(client_.query("SELECT version()")));
  return "ClickHouse " + caps_->version;
}

const Capabilities& ClickHouseDestination::capabilities() {
  if (!caps_) server_version();
  return *caps_;
}

TablePlan ClickHouseDestination::plan(const TableSchema& source, const DestinationTable& table) {
  return plan_table(source, table, database_, capabilities());
}

void ClickHouseDestination::ensure_table(const TableSchema& source, const DestinationTable& table) {
  TablePlan p = plan(source, table);
  if (!database_ready_) {
    client_.query(create_database_sql(database_));
    database_ready_ = true;
  }
  client_.query(create_table_sql(p, capabilities(), options_.remove_deleted_rows));

  // CREATE TABLE IF NOT EXISTS keeps an older table as it is: it must still take the rows.
  std::vector<ExistingColumn> existing = table_columns(p.table);
  std::string missing;
  for (const auto& c : p.columns) {
    bool found = false;
    for (const auto& e : existing) found |= e.name == c.name;
    if (!found) missing += (missing.empty() ? "" : ", ") + c.name;
  }
  if (!missing.empty())
    throw permanent_error("ClickHouse table " + database_ + "." + p.table + " (for " + p.source +
                          ") already exists without column(s) " + missing + "; drop it or resync the table");
  spdlog::debug("clickhouse: table {}.{} ready for {}", database_, p.table, p.source);
}

int64_t ClickHouseDestination::load_snapshot(const TableSchema& source, const DestinationTable& table,
                                             CopyStream& rows) {
  TablePlan p = plan(source, table);
  TsvEncoder encoder(p);
  std::string chunk;
  int64_t written = 0;
  // If the source or the encoder fails, the body ends with a lone backslash: every
  // ClickHouse type fails to parse it, so the INSERT is rejected rather than committed.
  client_.insert_stream(
      insert_sql(p),
      [&](std::string& out) {
        for (;;) {
          chunk.clear();
          if (!rows.next_chunk(chunk)) return false;
          written += static_cast<int64_t>(encoder.encode(chunk, out));
          if (!out.empty()) return true;
        }
      },
      "\\");
  return written;
}

std::string ClickHouseDestination::table_engine(const std::string& table) {
  return trim_line(client_.query("SELECT engine FROM system.tables WHERE database = " + quote_ch_literal(database_) +
                                 " AND name = " + quote_ch_literal(table) + " FORMAT TabSeparated"));
}

int64_t ClickHouseDestination::count_rows(const DestinationTable& table) {
  std::string engine = table_engine(table.name);
  if (engine.empty()) throw permanent_error("ClickHouse table " + database_ + "." + table.name + " does not exist");
  bool replacing = engine.find("Replacing") != std::string::npos;
  std::string sql = "SELECT count() FROM " + qualified_name(database_, table.name) + (replacing ? " FINAL" : "") +
                    " WHERE " + quote_backtick_ident(kIsDeletedColumn) + " = 0";
  std::string answer = trim_line(client_.query(sql));
  char* end = nullptr;
  long long n = std::strtoll(answer.c_str(), &end, 10);
  if (answer.empty() || *end != '\0')
    throw permanent_error("unexpected answer to count(): '" + answer.substr(0, 100) + "'");
  return n;
}

void ClickHouseDestination::drop_table(const std::string& table) {
  client_.query("DROP TABLE IF EXISTS " + qualified_name(database_, table));
}

std::vector<ExistingColumn> ClickHouseDestination::table_columns(const std::string& table) {
  std::string answer =
      client_.query("SELECT name, type FROM system.columns WHERE database = " + quote_ch_literal(database_) +
                    " AND table = " + quote_ch_literal(table) + " FORMAT TabSeparated");
  std::vector<ExistingColumn> out;
  size_t pos = 0;
  while (pos < answer.size()) {
    size_t eol = answer.find('\n', pos);
    if (eol == std::string::npos) eol = answer.size();
    std::string_view line(answer.data() + pos, eol - pos);
    pos = eol + 1;
    size_t tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    ExistingColumn c;
    unescape_copy_field(line.substr(0, tab), c.name);
    unescape_copy_field(line.substr(tab + 1), c.type);
    out.push_back(std::move(c));
  }
  return out;
}

std::string ClickHouseDestination::database_engine() {
  return trim_line(client_.query("SELECT engine FROM system.databases WHERE name = " + quote_ch_literal(database_) +
                                 " FORMAT TabSeparated"));
}

}  // namespace ferry::clickhouse
