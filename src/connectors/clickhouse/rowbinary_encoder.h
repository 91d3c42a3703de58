// PostgreSQL COPY text rows -> ClickHouse RowBinary rows (pure, hot path).
//
// RowBinary carries values as bits, so nothing is re-parsed by the server: floats keep
// every bit (TabSeparated made 18.16 round some doubles by one ulp and read subnormals
// as 0), decimals are exact integers, dates and timestamps are day/microsecond counts.
// One pass over each chunk, appending into the caller's buffer; no heap allocation per
// value (scratch buffers are reused for values that must be unescaped or decoded first).
//
// Layout per ClickHouse type (verified against 18.16.1 by round trip, see
// tests/integration/clickhouse_destination_test.cpp), all little-endian:
//  - Int8..Int64, UInt8..UInt64: fixed width; Bool (t/f) is UInt8 0/1.
//  - Float32/Float64: IEEE bits, parsed correctly rounded (std::from_chars) from
//    PostgreSQL's shortest round-trip text; Infinity/-Infinity; NaN is the canonical
//    quiet NaN (PostgreSQL prints every NaN as "NaN").
//  - Decimal(P, S): the value times 10^S as Int32 (P <= 9), Int64 (P <= 18) or Int128
//    (P <= 38); more fractional digits than S are refused, not rounded.
//  - String: LEB128 length, then the bytes (bytea decoded from its hex/escape text).
//  - UUID: two UInt64, the first and the second half of the hex text as numbers.
//  - Date: UInt16 days since 1970-01-01; Date32: Int32 days.
//  - DateTime64(p): Int64 ticks of 10^-p s since the epoch, UTC (timestamptz offsets applied).
//  - Nullable(T): UInt8 1 for NULL (nothing follows), else 0 and the T.
//  - Array(T): LEB128 count, then the elements (NOT NULL array columns only).
// The type comes from ClickHouseColumn::type (so Date vs Date32, Float32 vs Float64 and the
// decimal's precision and scale are the column's), the conversion from its codec.
//
// Unrepresentable values: a date or timestamp outside [min_day, max_day] (also PostgreSQL's
// infinity and -infinity), a decimal NaN or +-Infinity. Per column on_unrepresentable:
// Fail (and Text) throw; Null writes NULL (the column or the array element must be
// Nullable, else it throws naming the column); Clamp writes min_day/max_day (the first
// microsecond of min_day, the last of max_day) or the decimal's largest/smallest value for
// +-Infinity (a NaN becomes NULL when Nullable, else it throws). Such values are counted
// per column, and the first one of each column is kept (truncated).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/clickhouse/type_map.h"

namespace ferry::clickhouse {

class RowBinaryEncoder {
 public:
  // Throws ferry::Error (Permanent) naming the column when a column's ClickHouse type and
  // codec are not a pair this encoder writes.
  explicit RowBinaryEncoder(const TablePlan& plan);

  // Converts the complete rows of `chunk` (COPY text: tab-separated, \N for NULL, newline
  // after each row) and appends them to `out`, each followed by the row trailer if one is
  // set. Returns the number of rows. Throws ferry::Error (Permanent) naming table, column
  // and the value (truncated) when a value cannot be converted, or the row when it is
  // malformed; `out` then ends with a partial row.
  size_t encode(std::string_view chunk, std::string& out);

  // After this, encode() appends _ferry_version (UInt64) and _ferry_is_deleted (UInt8)
  // to every row.
  void set_row_trailer(uint64_t version, bool is_deleted);
  // Appends the two trailing fields of a row: version (UInt64), is_deleted (UInt8).
  static void append_trailer(std::string& out, uint64_t version, bool is_deleted);

  size_t columns() const { return columns_.size(); }
  const ClickHouseColumn& column(size_t i) const { return columns_[i]; }

  // Converts ONE value of column `i`, given as the source's canonical text UNESCAPED (not
  // COPY-escaped; not NULL), and appends its RowBinary field (with the Nullable flag when
  // the column is Nullable). Same conversions, policy and errors as encode().
  void encode_value(size_t i, std::string_view value, std::string& out);
  // Appends NULL for column `i`; throws Permanent when the column is not Nullable.
  void encode_null(size_t i, std::string& out);

  // Appends the field of the value column `i` holds when nothing is known about it: NULL
  // when Nullable, else the type's zero (0, '', [], 1970-01-01, the zero UUID).
  void append_default(size_t i, std::string& out) const;

  // Values written under Null or Clamp, per column, since construction or the last reset.
  const std::vector<int64_t>& unrepresentable_counts() const { return counts_; }
  // The first such value of column `i` as the source rendered it (at most ~100 bytes, cut at
  // a UTF-8 boundary); empty when there was none.
  const std::string& first_unrepresentable(size_t i) const { return first_[i]; }
  void reset_unrepresentable();

  // A body ending that makes ClickHouse reject the whole INSERT (for
  // HttpClient::insert_stream's poison): one byte can never complete a row, since every row
  // ends with at least the 9 bytes of the trailer (verified on 18.16: "Cannot read all data").
  static constexpr std::string_view kAbortBody = "\x01";

  // The wire types (public for the .cpp's helpers).
  enum class Wire : uint8_t {
    Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64,
    Float32, Float64, Decimal32, Decimal64, Decimal128,
    String, Uuid, Date, Date32, DateTime64,
  };
  struct Layout {
    Wire wire = Wire::String;
    bool nullable = false;          // the column (or, for arrays, the element) is Nullable
    bool array = false;
    uint8_t precision = 0;          // Decimal P; DateTime64 p
    uint8_t scale = 0;              // Decimal S
  };
  const Layout& layout(size_t i) const { return layouts_[i]; }
  // Where the RowBinary field of layout `l` that starts at data[pos] ends (as ClickHouse
  // writes it, e.g. in a SELECT ... FORMAT RowBinary); npos when `data` ends inside it.
  static size_t field_end(const Layout& l, std::string_view data, size_t pos);

 private:
  void encode_field(size_t i, std::string_view raw, bool has_backslash, std::string& out);
  // `v` unescaped; `raw` only for messages. Writes the Nullable flag (layout permitting).
  void encode_present(size_t i, std::string_view v, std::string_view raw, std::string& out);
  // One non-NULL value of codec `codec` for wire `l`; returns false (having written
  // nothing) when the policy makes it NULL, which only happens when `l.nullable`.
  bool encode_scalar(size_t i, Codec codec, const Layout& l, std::string_view v, std::string_view raw,
                     std::string& out);
  void encode_array(size_t i, std::string_view v, std::string_view raw, std::string& out);
  // An unrepresentable value under the column's policy: true = write NULL, false = clamp.
  // Throws for Fail/Text, for Null when not nullable, and when clamping is not possible.
  bool unrepresentable(size_t i, bool nullable, bool can_clamp, std::string_view v, std::string_view raw,
                       std::string_view reason);
  [[noreturn]] void fail(const ClickHouseColumn& c, std::string_view raw, std::string_view reason) const;
  [[noreturn]] void fail_row(size_t row, std::string_view reason) const;

  std::string table_;  // "public.orders (ClickHouse db.t)" for messages
  std::vector<ClickHouseColumn> columns_;
  std::vector<Layout> layouts_;
  std::vector<int64_t> counts_;
  std::vector<std::string> first_;
  char trailer_[9] = {};
  bool has_trailer_ = false;
  std::string scratch_;   // COPY-unescaped value
  std::string element_;   // unquoted array element
  std::string bytes_;     // decoded bytea
  std::string elements_;  // encoded array elements (the count goes first)
};

}  // namespace ferry::clickhouse
