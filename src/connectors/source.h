// What the runner needs from a source (DESIGN.md section 8). Snapshot side
// here; change streams come with CDC.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "connectors/change_stream.h"
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

  // --- change data capture (sources that stream; others throw Permanent) ---

  // Publishes exactly `tables` for the pipe's stream (idempotent).
  virtual void prepare_stream(const std::string& pipe, const std::vector<std::string>& tables);
  // Whether the pipe's stream start (replication slot) exists at the source.
  virtual bool stream_exists(const std::string& pipe);
  // Creates the pipe's stream start at the current position and returns that
  // position in `position`. With `with_snapshot`, also returns a consistent
  // point for the initial load exactly at that position (else nullptr).
  virtual std::unique_ptr<SnapshotPoint> create_stream(const std::string& pipe, bool with_snapshot, uint64_t& position);
  // Streams committed changes after `position`.
  virtual std::unique_ptr<ChangeStream> open_stream(const std::string& pipe, uint64_t position);
  // Drops what create_stream/prepare_stream made (idempotent).
  virtual void drop_stream(const std::string& pipe);
  // Bytes of change data the source keeps for the pipe beyond its acknowledged position.
  virtual int64_t stream_lag_bytes(const std::string& pipe);
  // Renders a position for people and the catalog (PostgreSQL: "16/B374D848").
  virtual std::string format_position(uint64_t position) const;
  virtual uint64_t parse_position(const std::string& text) const;
};

std::unique_ptr<Source> make_source(const PeerSpec& peer);

}  // namespace ferry
