// libFuzzer target for the binlog decoders (binlog_event.h, binlog_rows.h): the input is a
// binlog file (the magic is optional) read event by event as the change stream reads them:
// FORMAT_DESCRIPTION kept, TABLE_MAPs copied, every ROWS event of a known table decoded.
//
// The target rewrites each event's CRC32 before decoding it when the format says events
// carry one: a mutated event would otherwise stop at the checksum, and the checksum itself
// is covered by unit tests. Contract: only ferry::Error(Permanent) is thrown ("binlog: ..."
// for the event decoder); the sanitizers catch every read outside the input.
//   scripts/fuzz binlog_fuzz        (corpus: tests/fuzz/corpus/binlog_fuzz)
#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <variant>
#include <vector>

#include "connectors/mysql/binlog_event.h"
#include "connectors/mysql/binlog_rows.h"
#include "fuzz_contract.h"

using namespace ferry;
using namespace ferry::mysql;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  if (in.size() >= 4 && std::memcmp(in.data(), kBinlogMagic, 4) == 0) in = in.subspan(4);
  FormatDescription format;
  bool have_format = false;
  std::map<uint64_t, BinlogTableMap> tables;
  std::vector<RowChange> rows;
  while (!in.empty()) {
    size_t length = in.size();
    if (in.size() >= kEventHeaderSize) {
      uint32_t declared;
      std::memcpy(&declared, in.data() + 9, 4);  // event_size (little-endian, as on x86)
      if (declared >= kEventHeaderSize && declared <= in.size()) length = declared;
    }
    // Each event in a heap block of exactly its size, so a read past it is an ASan error.
    std::vector<uint8_t> event(in.begin(), in.begin() + length);
    in = in.subspan(length);
    if (have_format && format.checksum && event.size() >= kEventHeaderSize + 4) {
      uint32_t crc = crc32(std::span<const uint8_t>(event.data(), event.size() - 4));
      std::memcpy(event.data() + event.size() - 4, &crc, 4);
    }
    try {
      BinlogEvent e = decode_event(event, have_format ? &format : nullptr);
      if (auto* f = std::get_if<FormatDescription>(&e.body)) {
        format = *f;
        have_format = true;
      } else if (auto* t = std::get_if<TableMapEvent>(&e.body)) {
        BinlogTableMap map = BinlogTableMap::from(*t);
        tables[map.table_id] = std::move(map);
      } else if (auto* r = std::get_if<RowsEvent>(&e.body)) {
        auto it = tables.find(r->table_id);
        if (it != tables.end()) {
          rows.clear();
          decode_rows(*r, it->second, rows);
          for (const auto& row : rows)
            for (const RowImage* image : {&row.before, &row.after})
              if (!image->empty() && image->size() != it->second.columns.size())
                fuzz::violated("row image width differs from the table map");
        }
      }
    } catch (const Error& err) {
      fuzz::check_permanent(err);
    }
  }
  return 0;
}
