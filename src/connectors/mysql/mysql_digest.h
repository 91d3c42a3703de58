// TableDigester for a MariaDB/MySQL table (connectors/api/table_digest.h): the row digest in
// SQL, each cell rendered as the canonical text the snapshot reads (mysql_types.h renders),
// on a connection with time_zone +00:00. Floats have no form: SQL cannot reach a double's
// bits, and the server's text is not the shortest round-trip one, so they are left out.
#pragma once
#include <memory>
#include <string>

#include "connectors/api/table_digest.h"

namespace ferry {
struct PeerSpec;
}

namespace ferry::mysql {

class MysqlConnection;

class MysqlTableDigester final : public TableDigester {
 public:
  MysqlTableDigester(const PeerSpec& peer, const TableSchema& table);
  // A MariaDB destination table `database`.`table` created for `source` (projected) by
  // mysql_dest_types.h: cells render as the source's canonical text (booleans t/f,
  // PostgreSQL timestamps and times without trailing fraction zeros); unbounded numerics
  // (DECIMAL(65,30) pads the fraction) and floats are not compared.
  // `live_filter` (SQL over the table's columns): only rows that pass it are live.
  static std::unique_ptr<MysqlTableDigester> for_destination(const PeerSpec& peer, const TableSchema& source,
                                                             const std::string& database, const std::string& table,
                                                             const std::string& live_filter = "");
  ~MysqlTableDigester() override;
  std::vector<std::string> columns() override;
  int64_t count() override;
  std::optional<DigestForm> form(const Column& column) const override;
  std::vector<BucketDigest> buckets(const DigestPlan& plan) override;
  std::vector<KeyDigest> keys(const DigestPlan& plan, uint64_t bucket, size_t limit) override;

 private:
  std::string cell_text(const DigestColumn& c) const;
  std::string cell(const DigestColumn& c) const;
  std::string joined_cells(const std::vector<DigestColumn>& columns) const;

  std::unique_ptr<MysqlConnection> conn_;
  TableSchema table_;
  bool destination_ = false;
  std::string qualified_;
};

}  // namespace ferry::mysql
