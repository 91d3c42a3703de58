// CPU time per row of ferry's own CDC hot path, in one process and without servers:
// decoding pgoutput Insert/Update messages of the cdc_vs_recvlogical.sh table
// (PgOutputDecoder) and adding their rows to a ChangeBatcher (flushed every 100k rows).
// Thread CPU time, so that other load on the machine does not count. Prints; asserts nothing.
//   build/bench/cdc_hotpath_bench [ROWS]   (default 1M)
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>
#include "connectors/postgres/pgoutput.h"
#include "pipe/change_batcher.h"
using namespace ferry;
#include <ctime>
struct clk {
  static double now() { timespec ts; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }
};

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::stoi(argv[1]) : 1000000;
  // The benchmark's events table: id, kind, amount, payload, created_at.
  std::vector<std::vector<uint8_t>> msgs;
  std::vector<std::string> texts;
  texts.reserve(1000 * 5);
  for (int i = 0; i < 1000; ++i) {
    pgoutput::Insert ins;
    ins.relation_oid = 16384;
    texts.push_back(std::to_string(i + 1));
    texts.push_back("k" + std::to_string(i % 10));
    texts.push_back(std::to_string(i % 1000) + ".00");
    texts.push_back("0123456789abcdef0123456789abcdef");
    texts.push_back("2026-12-03 13:29:26.123456+00");
    for (int c = 0; c < 5; ++c) ins.new_tuple.values.push_back({pgoutput::ValueKind::Text, texts[texts.size() - 5 + c]});
    if (i % 2 == 0) {
      msgs.push_back(encode_pgoutput(ins));
    } else {
      pgoutput::Update up;
      up.relation_oid = 16384;
      up.new_tuple = ins.new_tuple;
      msgs.push_back(encode_pgoutput(up));
    }
  }
  PipeSpec pipe;
  pipe.name = "bench";
  TableMapping m;
  m.source = "public.events";
  pipe.tables.push_back(m);
  StreamRelation rel;
  rel.schema = "public";
  rel.name = "events";
  rel.columns = {"id", "kind", "amount", "payload", "created_at"};
  rel.key = {true, false, false, false, false};

  PgOutputDecoder decoder;
  ChangeBatcher batcher(pipe);
  ChangeEvent ev;
  ev.kind = ChangeEvent::Kind::Row;
  ev.relation = &rel;
  size_t sink = 0;
  double decode_s = 0, batch_s = 0;
  for (int round = 0; round < 2; ++round) {  // first round warms up
    decode_s = batch_s = 0;
    auto t0 = clk::now();
    for (int i = 0; i < n; ++i) {
      const auto& bytes = msgs[i % msgs.size()];
      const PgOutputMessage& msg = decoder.decode(bytes);
      const pgoutput::TupleData& t = std::holds_alternative<pgoutput::Insert>(msg)
                                         ? std::get<pgoutput::Insert>(msg).new_tuple
                                         : std::get<pgoutput::Update>(msg).new_tuple;
      sink += t.values.size();
    }
    auto t1 = clk::now();
    ev.values.resize(5);
    for (int i = 0; i < n; ++i) {
      for (int c = 0; c < 5; ++c) ev.values[c] = {CellState::Value, texts[(i % 1000) * 5 + c]};
      ev.version = i;
      batcher.add(ev);
      if (batcher.full(100000)) batcher.clear();
    }
    auto t2 = clk::now();
    decode_s = t1 - t0;
    batch_s = t2 - t1;
  }
  std::printf("decode %.1f ns/row  batch %.1f ns/row  (%d rows, sink %zu)\n", decode_s * 1e9 / n, batch_s * 1e9 / n, n, sink);
}
