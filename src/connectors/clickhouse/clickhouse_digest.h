// TableDigester for a ClickHouse destination table (connectors/api/table_digest.h): the row
// digest in ClickHouse SQL (18.16 functions only) over the live rows (FINAL, not
// soft-deleted), each cell rendered back into the source's canonical text from the
// column's ClickHouse type (type_map.h codecs), floats by their bits. Columns it cannot
// render so (arrays, DateTime64 of newer servers) have no form and are left out.
#pragma once
#include <map>
#include <string>

#include "connectors/api/table_digest.h"
#include "connectors/clickhouse/type_map.h"

namespace ferry::clickhouse {

class ClickHouseDestination;

class ClickHouseTableDigester final : public TableDigester {
 public:
  // `destination` outlives the digester; `plan` is the table's mapping for `source`.
  ClickHouseTableDigester(ClickHouseDestination& destination, const TableSchema& source, TablePlan plan);
  std::vector<std::string> columns() override;
  int64_t count() override;
  std::optional<DigestForm> form(const Column& column) const override;
  std::vector<BucketDigest> buckets(const DigestPlan& plan) override;
  std::vector<KeyDigest> keys(const DigestPlan& plan, uint64_t bucket, size_t limit) override;

 private:
  std::string cell_text(const DigestColumn& c) const;  // of a non-NULL value
  std::string cell(const DigestColumn& c) const;
  std::string joined_cells(const std::vector<DigestColumn>& columns) const;
  std::string live_rows() const;  // FROM ... [FINAL] WHERE not deleted

  ClickHouseDestination& destination_;
  TablePlan plan_;
  std::map<std::string, const ClickHouseColumn*> by_name_;
  std::map<std::string, LogicalType> source_types_;
};

}  // namespace ferry::clickhouse
