// Table digests for `ferry compare` (pipe/compare.h): each database hashes its own rows, so
// a comparison moves per-bucket sums and, for the buckets that differ, keys with row hashes,
// never whole rows.
//
// The digest of a row is defined once, here, and every connector renders it in its SQL:
//   cell text  the column's canonical text (core/schema.h), except floats (Float32Bits,
//              Float64Bits): the IEEE bits read as a signed 32/64-bit integer, in decimal
//              (text renderings of floats differ between servers; bits do not)
//   cell       "<octet length>:<cell text>", or "-" for NULL
//   row text   the cells of DigestPlan::columns in order, joined by ","
//   key text   the same over DigestPlan::key
//   hash(s)    the first 60 bits of MD5(s) as an unsigned integer (the first 15 hex digits)
//   bucket     hash(key text) mod DigestPlan::buckets
//   BucketDigest::sum  the sum of hash(row text) over the bucket's rows, mod 2^64
// Only live rows count (ClickHouse: FINAL, not soft-deleted).
//
// Thread safety: one thread at a time per digester. Errors: ferry::Error; Transient when
// the server is unreachable, Permanent for a failed query (the SQL's table named).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/schema.h"

namespace ferry {

enum class DigestForm { Text, Float32Bits, Float64Bits };

struct DigestColumn {
  std::string name;
  DigestForm form = DigestForm::Text;
};

struct DigestPlan {
  std::vector<std::string> key;       // key columns, in key order
  std::vector<DigestColumn> columns;  // hashed columns (key columns included), same at both ends
  uint64_t buckets = 1;
};

struct BucketDigest {
  uint64_t bucket = 0;
  int64_t rows = 0;
  uint64_t sum = 0;
  bool operator==(const BucketDigest&) const = default;
};

struct KeyDigest {
  std::vector<std::optional<std::string>> key;  // canonical text per key column; nullopt for NULL
  uint64_t row_hash = 0;
};

// The plan's key columns with their forms (Text for a key column the plan does not hash).
std::vector<DigestColumn> digest_key_columns(const DigestPlan& plan);
// A count, bucket, sum or hash as a server returned it; Permanent naming `what` and
// `server` when it is not an unsigned decimal number.
uint64_t parse_digest_number(const std::optional<std::string>& text, const char* what, const char* server);

class TableDigester {
 public:
  virtual ~TableDigester() = default;
  // The table's column names as the server has them (ferry's own _ferry_* columns left
  // out); empty when the table does not exist.
  virtual std::vector<std::string> columns() = 0;
  // Live rows.
  virtual int64_t count() = 0;
  // How this end can hash `column` (its source schema), or nullopt when it cannot (the
  // column is then left out of the comparison, and the report says so).
  virtual std::optional<DigestForm> form(const Column& column) const = 0;
  // Every non-empty bucket, in bucket order.
  virtual std::vector<BucketDigest> buckets(const DigestPlan& plan) = 0;
  // The rows of one bucket, in no particular order, at most `limit`.
  virtual std::vector<KeyDigest> keys(const DigestPlan& plan, uint64_t bucket, size_t limit) = 0;
};

}  // namespace ferry
