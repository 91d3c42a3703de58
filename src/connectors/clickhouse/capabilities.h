// What a ClickHouse server can do, derived from `SELECT version()` (pure).
//
// Thresholds (first release that has the feature):
//   DateTime64, now64()                 20.1
//   allow_nullable_key (MergeTree)      20.7
//   Atomic databases by default,
//   EXCHANGE TABLES                     20.10 (and the database engine must be Atomic)
//   Date32                              21.9
//   Bool                                22.3
//   ReplacingMergeTree(ver, is_deleted) 23.2
// Date ranges: Date [1970-01-01, 2105-12-31] as parsed from text by 18.16 (newer servers
// go up to 2149-06-06; we keep the narrower bound since Date is only used below 21.9);
// DateTime64 20.1..21.3 = DateTime's range [1970, 2105]; 21.4..22.7 [1925-01-01,
// 2283-11-11]; 22.8+ [1900-01-01, 2299-12-31] (Date32 alike from 21.9). Out-of-range
// values are silently clamped or zeroed by the server, so the encoder rejects them.
// Verified on 18.16.1: Nullable, Decimal(P<=38, S), UUID, Array(Nullable(T)) for Int*,
// Float*, Decimal, UInt8, String, UUID and Date, MergeTree ORDER BY tuple(),
// X-ClickHouse-User/Key headers, chunked request bodies.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::clickhouse {

struct Capabilities {
  std::string version;  // as the server reports it, e.g. "18.16.1" or "23.8.2.7"
  int major = 0;
  int minor = 0;

  bool has_datetime64 = false;             // >= 20.1 (and now64())
  bool has_nullable_key = false;           // >= 20.7
  bool has_exchange_tables = false;        // >= 20.10; also needs an Atomic database
  bool has_date32 = false;                 // >= 21.9
  bool has_bool = false;                   // >= 22.3
  bool has_is_deleted_engine_arg = false;  // >= 23.2

  // Range that Date32 / DateTime64 hold, as days since 1970-01-01 (inclusive).
  int32_t ext_min_day = 0;
  int32_t ext_max_day = 0;

  bool at_least(int ma, int mi) const { return major > ma || (major == ma && minor >= mi); }

  // Parses "18.16.1", "23.8.2.7", "24.3.1.2672 (official build)". Throws Permanent when
  // the text has no major.minor.
  static Capabilities from_version(std::string_view version);
};

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int32_t days_from_civil(int y, unsigned m, unsigned d);
void civil_from_days(int32_t z, int& y, unsigned& m, unsigned& d);

// Range of the plain Date type as ferry uses it: [1970-01-01, 2105-12-31].
inline constexpr int32_t kDateMinDay = 0;
inline constexpr int32_t kDateMaxDay = 49672;  // 2105-12-31

}  // namespace ferry::clickhouse
