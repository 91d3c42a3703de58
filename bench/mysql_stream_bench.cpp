// Reads the binlog of a MariaDB server from one position to another and prints how fast
// ferry gets through it (used by bench/binlog_vs_mariadb_binlog.sh):
//   stream: MysqlChangeStream over the replication protocol, every Row's values touched
//   decode: the same events fetched into memory first, then decoded alone (decode_event +
//           decode_rows_reusing), so the decoder's own rate shows without the network
// Usage: mysql_stream_bench HOST PORT USER TABLE(db.t) FROM(binlog.N:off) TO(binlog.N:off)
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "connectors/mysql/binlog_client.h"
#include "connectors/mysql/binlog_rows.h"
#include "connectors/mysql/mysql_change_stream.h"

using namespace ferry;
using namespace ferry::mysql;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s HOST PORT USER TABLE FROM TO\n", argv[0]);
    return 2;
  }
  MysqlEndpoint ep{argv[1], std::stoi(argv[2]), argv[3], ""};
  std::string table = argv[4];
  BinlogPosition from = BinlogPosition::parse(argv[5]), to = BinlogPosition::parse(argv[6]);

  // stream
  auto t0 = Clock::now();
  MysqlStreamOptions options;
  options.server_id = 4200000001u;
  MysqlChangeStream stream(ep, from, {table}, options);
  ChangeEvent ev;
  uint64_t rows = 0, bytes = 0;
  while (stream.position() < to) {
    if (!stream.next(ev, std::chrono::milliseconds(500))) continue;
    if (ev.kind != ChangeEvent::Kind::Row) continue;
    ++rows;
    for (const auto& v : ev.values) bytes += v.text.size();
  }
  double stream_s = seconds_since(t0);
  std::printf("stream: %llu rows, %llu value bytes in %.3f s: %.0f rows/s\n", (unsigned long long)rows,
              (unsigned long long)bytes, stream_s, rows / stream_s);

  // decode: raw events into memory, then the decoder alone
  BinlogClientOptions copts;
  copts.server_id = 4200000002u;
  BinlogClient client(ep, from, copts);
  std::vector<std::vector<uint8_t>> raw;
  BinlogEvent be;
  std::span<const uint8_t> b;
  while (client.position() < to && client.next(be, &b)) raw.emplace_back(b.begin(), b.end());
  FormatDescription format = client.format();
  auto t1 = Clock::now();
  std::vector<BinlogTableMap> maps;
  std::vector<mysql::RowChange> changes;
  uint64_t decoded = 0, sink = 0;
  for (const auto& r : raw) {
    BinlogEvent e = decode_event(r, &format);
    if (auto* tm = std::get_if<TableMapEvent>(&e.body)) {
      if (maps.empty() || maps.back().table_id != tm->table_id) maps.push_back(BinlogTableMap::from(*tm));
    } else if (auto* rows_ev = std::get_if<RowsEvent>(&e.body)) {
      for (const auto& m : maps)
        if (m.table_id == rows_ev->table_id) {
          size_t n = decode_rows_reusing(*rows_ev, m, changes);
          decoded += n;
          for (size_t i = 0; i < n; ++i) sink += changes[i].after.empty() ? 0 : changes[i].after[0].text.size();
        }
    }
  }
  double decode_s = seconds_since(t1);
  std::printf("decode: %llu rows from %zu events in memory in %.3f s: %.0f rows/s (%llu)\n",
              (unsigned long long)decoded, raw.size(), decode_s, decoded / decode_s, (unsigned long long)sink);
  return 0;
}
