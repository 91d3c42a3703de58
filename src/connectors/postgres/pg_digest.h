// TableDigester for a PostgreSQL table (connectors/api/table_digest.h): the row digest in
// SQL over the session's canonical renderings (pg_connection sets TimeZone UTC, ISO dates,
// extra_float_digits, hex bytea), floats by their bits (float4send/float8send). Serves the
// PostgreSQL source and a PostgreSQL destination alike: it only needs the table's name.
#pragma once
#include <memory>
#include <string>

#include "connectors/api/table_digest.h"

namespace ferry {

struct PeerSpec;
class PgConnection;

class PgTableDigester final : public TableDigester {
 public:
  // `live_filter` (SQL over the table's columns, e.g. NOT "_ferry_is_deleted"): only rows
  // that pass it are live.
  PgTableDigester(const PeerSpec& peer, std::string schema, std::string table, std::string live_filter = "");
  ~PgTableDigester() override;
  std::vector<std::string> columns() override;
  int64_t count() override;
  std::optional<DigestForm> form(const Column& column) const override;
  std::vector<BucketDigest> buckets(const DigestPlan& plan) override;
  std::vector<KeyDigest> keys(const DigestPlan& plan, uint64_t bucket, size_t limit) override;

 private:
  std::unique_ptr<PgConnection> conn_;
  std::string schema_, table_;
  std::string relation_;   // the table, quoted and qualified
  std::string qualified_;  // what the digests read: the table, or its live rows
};

}  // namespace ferry
