// Positions in a MariaDB / MySQL binary log, as ferry stores them (catalog text) and
// versions rows with them (pure).
//
// A position is a binlog file and an offset in it ("binlog.000042:1234"), plus the GTID
// state there when the server has GTIDs ("0-1-1500,1-2-7" for MariaDB). Row versions must
// grow in commit order: the binlog is written in commit order, and the file's numeric
// suffix grows at every rotation, so version() packs the suffix in the high 32 bits and
// the offset (a binlog file is at most 4 GiB: max_binlog_size <= 1 GiB) in the low 32.
#pragma once
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/mysql/binlog_event.h"

namespace ferry::mysql {

struct BinlogPosition {
  std::string file;  // e.g. "binlog.000042"
  uint64_t offset = 0;

  // The numeric suffix of `file`; throws Permanent when it has none.
  uint32_t file_index() const;
  // (file_index << 32) | offset: monotonic across rotations. Throws Permanent when the
  // offset does not fit 32 bits.
  uint64_t version() const;
  // "binlog.000042:1234"
  std::string to_string() const;
  // Parses to_string()'s form; throws Permanent naming the text otherwise.
  static BinlogPosition parse(std::string_view text);

  // Ordered by file index, then offset (files of one server share a base name).
  std::strong_ordering operator<=>(const BinlogPosition& o) const;
  bool operator==(const BinlogPosition& o) const { return file == o.file && offset == o.offset; }
};

// MariaDB GTID state "domain-server-sequence[,...]": one GTID per domain, the last one
// applied. Sorted by domain; update() keeps it so.
struct GtidState {
  std::vector<Gtid> gtids;

  void update(const Gtid& g);  // replaces the domain's GTID
  std::string to_string() const;  // "0-1-1500,1-2-7"; "" when empty
  static GtidState parse(std::string_view text);  // throws Permanent naming the text
};

}  // namespace ferry::mysql
