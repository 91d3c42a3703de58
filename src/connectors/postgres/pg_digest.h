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
  PgTableDigester(const PeerSpec& peer, std::string schema, std::string table);
  ~PgTableDigester() override;
  std::vector<std::string> columns() override;
  int64_t count() override;
  std::optional<DigestForm> form(const Column& column) const override;
  std::vector<BucketDigest> buckets(const DigestPlan& plan) override;
  std::vector<KeyDigest> keys(const DigestPlan& plan, uint64_t bucket, size_t limit) override;

 private:
  std::unique_ptr<PgConnection> conn_;
  std::string schema_, table_;
  std::string qualified_;
};

}  // namespace ferry
