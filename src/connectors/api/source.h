// Source: what the runner reads from a database (DESIGN.md section 8).
//
// Thread safety: a Source object is used by one thread at a time (the runner's),
// except read_partition and read_range, which may be called from several load
// threads at once; each returned stream is used by one thread. Implementations
// open their own connections for those calls.
//
// Lifetimes: a SnapshotPoint must outlive every CopyStream read at it (the point
// holds the transaction the streams read in). A ChangeStream may outlive nothing
// but its Source object. The Source outlives everything it returned.
//
// Errors: every method throws ferry::Error (core/error.h). Transient: the server
// is unreachable or the connection broke (the runner retries). Permanent: the
// request cannot succeed as configured (missing table or privilege), the message
// names the object. SourceLost: the stream's start is gone (slot dropped, binlog
// purged); only a resync recovers. Config: a setting the source refuses.
//
// Capabilities: what a source can do beyond snapshots is in capabilities(); the
// runner and the pre-check ask it before calling the methods it covers. Calling a
// method the source does not have throws Permanent (a programming error).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/api/change_stream.h"
#include "connectors/api/copy_stream.h"
#include "connectors/api/table_digest.h"
#include "core/schema.h"

namespace ferry {

struct PeerSpec;
struct PipeSpec;
struct CheckResult;
enum class PeerType;

// One consistent point, held open for a whole load: every partition of every table
// of the pipe is read at this point, from any connection. Not copyable; closing it
// (destruction) ends the transaction that keeps the point.
class SnapshotPoint {
 public:
  virtual ~SnapshotPoint() = default;
  // Identifier other sessions import (PostgreSQL exported snapshot name).
  virtual const std::string& id() const = 0;
  // The source position of the consistent point: every change committed before it
  // is visible at the point, every change after it has a higher position (the
  // version snapshot rows are written with). 0 for sources without positions.
  virtual uint64_t position() const = 0;
};

// What a source reports about a table's cursor column at the start of an incremental run.
struct CursorProbe {
  std::optional<std::string> max;  // max(cursor) in the source's canonical text; nullopt: no non-null value
  int64_t null_rows = 0;           // rows whose cursor is NULL (never copied)
  bool below_last = false;         // max < the `last` passed in: the cursor went backwards
};

// What a source can do beyond snapshots. Fixed per connector type (no server is
// asked), so a config can be checked before anything connects.
struct SourceCapabilities {
  bool change_stream = false;   // prepare_stream .. parse_position: modes cdc and snapshot+cdc
  bool incremental = false;     // probe_cursor, read_range: mode incremental
  bool positions = false;       // SnapshotPoint::position() is a real source position
  bool column_ranges = false;   // column_min_max
};

class Source {
 public:
  virtual ~Source() = default;

  virtual SourceCapabilities capabilities() const = 0;

  virtual std::string server_version() = 0;

  // The schema (PostgreSQL) or database (MariaDB) of a table named without one in the
  // pipe's tables, so that stream relations match the configured names.
  virtual std::string default_schema() const = 0;

  // Columns, types, key and size of a table. Permanent naming the table when it
  // does not exist or cannot be read.
  virtual TableSchema describe(const std::string& table) = 0;

  // Checks that the session can read the table (SELECT privilege) so a missing
  // grant fails at Setup rather than mid-load. Permanent naming the table.
  virtual void check_readable(const TableSchema& table) = 0;

  // Opens a consistent point for a load. `exact_position`: the load is combined
  // with the pipe's change stream (replayed from before the point), so position()
  // must split changes exactly: a change is visible at the point if and only if
  // its position is below it (PostgreSQL: a temporary replication slot's exported
  // snapshot; a plain exported snapshot cannot promise that, as a commit becomes
  // visible after its WAL record is written). `readers`: the most partitions the
  // caller reads from the point at once (the pipe's snapshot_parallelism); a source
  // whose point is a pool of sessions opens that many (MariaDB), others ignore it.
  virtual std::unique_ptr<SnapshotPoint> open_snapshot(bool exact_position = false, int readers = 1) = 0;

  // Splits a table into ranges of about `rows_per_partition` rows. Ranges are
  // opaque strings the same source understands in read_partition; the plan is
  // stored in the catalog, so a range must stay readable by a later process.
  virtual std::vector<std::string> plan_partitions(const TableSchema& table, int64_t rows_per_partition) = 0;

  // Streams the rows of one range, only the columns of `projected`, in COPY text
  // framing, as seen at `point`. Thread-safe (see above).
  virtual std::unique_ptr<CopyStream> read_partition(const TableSchema& projected, const std::string& range,
                                                     const SnapshotPoint& point) = 0;

  // --- change data capture (capabilities().change_stream) ---

  // Publishes exactly `tables` for the pipe's stream (idempotent).
  virtual void prepare_stream(const std::string& pipe, const std::vector<std::string>& tables);
  // Whether the pipe has a stream start kept by the source (a replication slot);
  // false for sources that keep none (MariaDB: the position lives in the catalog).
  virtual bool stream_exists(const std::string& pipe);
  // Whether open_stream(pipe, position) can still deliver every change after
  // `position` (the slot exists; the binlog file is not purged). Default: stream_exists.
  virtual bool can_resume_stream(const std::string& pipe, uint64_t position) { return stream_exists(pipe); }
  // Creates the pipe's stream start at the current position and returns that
  // position in `position`. With `with_snapshot`, also returns a consistent
  // point for the initial load exactly at that position (else nullptr), for `readers`
  // as in open_snapshot.
  virtual std::unique_ptr<SnapshotPoint> create_stream(const std::string& pipe, bool with_snapshot, uint64_t& position,
                                                       int readers = 1);
  // Streams committed changes after `position`. SourceLost when the source no
  // longer keeps the changes after it.
  virtual std::unique_ptr<ChangeStream> open_stream(const std::string& pipe, uint64_t position);
  // Drops what create_stream/prepare_stream made (idempotent).
  virtual void drop_stream(const std::string& pipe);
  // Bytes of change data the source keeps for the pipe beyond its acknowledged position.
  virtual int64_t stream_lag_bytes(const std::string& pipe);
  // A position as the catalog stores it and people read it (PostgreSQL LSN
  // "16/B374D848", a binlog "binlog.000042:1234"). parse_position(format_position(p))
  // == p; positions order as the numbers do (commit order). Permanent for text the
  // source cannot read.
  virtual std::string format_position(uint64_t position) const;
  virtual uint64_t parse_position(const std::string& text) const;

  // --- periodic incremental copy (capabilities().incremental) ---

  // The cursor column's current maximum (the run's upper bound), the number of
  // rows with a NULL cursor, and whether the maximum is below `last` (the
  // stored cursor). Values are the source's canonical text and are accepted
  // back by read_range as bounds.
  virtual CursorProbe probe_cursor(const TableSchema& table, const std::string& cursor_column,
                                   const std::optional<std::string>& last);
  // Streams the rows with lower < cursor <= upper (no lower bound when nullopt),
  // only the columns of `projected`, in COPY text framing. Thread-safe.
  virtual std::unique_ptr<CopyStream> read_range(const TableSchema& projected, const std::string& cursor_column,
                                                 const std::optional<std::string>& lower, const std::string& upper);

  // --- value ranges (capabilities().column_ranges) ---
  // The smallest and largest non-NULL value of `column` in the source's canonical
  // text (nullopt when the table has none). Reads the whole column unless the
  // source has an index on it.
  virtual std::pair<std::optional<std::string>, std::optional<std::string>> column_min_max(const TableSchema& table,
                                                                                         const std::string& column);

  // --- compare (pipe/compare.h) ---
  // Hashes the rows of `projected` (connectors/api/table_digest.h) on a connection of its
  // own. Config error naming the source type when it cannot. Default: cannot.
  virtual std::unique_ptr<TableDigester> digester(const TableSchema& projected);

  // --- pre-check (pipe/precheck.h) ---
  // Appends this source's own checks for `pipe` (connectivity as "source connectivity",
  // version, replication prerequisites). Never throws for a server problem: a
  // connection failure is a failing "source connectivity" check and the checks that
  // need the connection fail with reason "not connected". The per-table checks and
  // their policy live in pipe/precheck.cpp. Default: connectivity (server_version).
  virtual void precheck(const PipeSpec& pipe, std::vector<CheckResult>& out);
};

// Config error naming the peer when its type cannot be a source.
std::unique_ptr<Source> make_source(const PeerSpec& peer);
// The capabilities of sources of `type`; nullopt when ferry cannot read from it.
std::optional<SourceCapabilities> source_capabilities(PeerType type);

}  // namespace ferry
