// What the runner needs from a source (DESIGN.md section 8). Snapshot side
// here; change streams come with CDC.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "connectors/copy_stream.h"
#include "core/schema.h"

namespace ferry {

struct PeerSpec;

// Holds one consistent point open for the whole initial load: every partition
// of every table of the pipe is read at this point, from any connection.
class SnapshotPoint {
 public:
  virtual ~SnapshotPoint() = default;
  // Identifier other sessions import (PostgreSQL exported snapshot name).
  virtual const std::string& id() const = 0;
};

class Source {
 public:
  virtual ~Source() = default;

  virtual std::string server_version() = 0;

  // Columns, types, key and size of a table. Throws Permanent naming the
  // table when it does not exist or cannot be read.
  virtual TableSchema describe(const std::string& table) = 0;

  // Checks that the session can read the table (SELECT privilege) so a
  // missing grant fails at Setup rather than mid-load.
  virtual void check_readable(const TableSchema& table) = 0;

  // Opens a consistent point for a snapshot-only load.
  virtual std::unique_ptr<SnapshotPoint> open_snapshot() = 0;

  // Splits a table into ranges of about `rows_per_partition` rows. Ranges are
  // opaque strings the same source understands in read_partition.
  virtual std::vector<std::string> plan_partitions(const TableSchema& table, int64_t rows_per_partition) = 0;

  // Streams the rows of one range, only the columns of `projected`, in COPY
  // text framing, as seen at `point`. Thread-safe: each call opens its own
  // connection, so partitions can be read in parallel.
  virtual std::unique_ptr<CopyStream> read_partition(const TableSchema& projected, const std::string& range,
                                                     const SnapshotPoint& point) = 0;
};

std::unique_ptr<Source> make_source(const PeerSpec& peer);

}  // namespace ferry
