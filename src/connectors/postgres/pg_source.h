// PostgreSQL as a source: table discovery, consistent snapshots (exported
// snapshots), ctid-range partitions read with COPY.
#pragma once
#include <memory>
#include <string>

#include "connectors/source.h"
#include "pipe/spec.h"

namespace ferry {

class PgConnection;

class PgSource final : public Source {
 public:
  explicit PgSource(PeerSpec peer);
  ~PgSource() override;

  std::string server_version() override;
  TableSchema describe(const std::string& table) override;
  void check_readable(const TableSchema& table) override;
  std::unique_ptr<SnapshotPoint> open_snapshot() override;
  std::vector<std::string> plan_partitions(const TableSchema& table, int64_t rows_per_partition) override;
  std::unique_ptr<CopyStream> read_partition(const TableSchema& projected, const std::string& range,
                                             const SnapshotPoint& point) override;

  // The SELECT list / FROM / WHERE that reads `range` of `projected`.
  static std::string partition_query(const TableSchema& projected, const std::string& range);

 private:
  PgConnection& meta();
  PeerSpec peer_;
  std::unique_ptr<PgConnection> meta_;  // discovery connection, opened lazily
};

}  // namespace ferry
