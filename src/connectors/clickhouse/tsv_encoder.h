// PostgreSQL COPY text rows -> ClickHouse TabSeparated rows (pure, hot path).
//
// ferry writes rows in RowBinary (rowbinary_encoder.h: TSV made 18.16 round floats). This
// encoder still renders the key values apply_changes looks up (external-table Strings that
// ClickHouse CASTs), so it applies no on_unrepresentable policy: such values fail here.
//
// One pass over each chunk, appending into the caller's reusable output buffer; no heap
// allocation per value (two scratch buffers are reused for values that must be unescaped
// first: arrays and bytea).
//
// Per column (see Codec in type_map.h):
//  - integers, decimals, UUIDs, strings pass through: PG COPY text and ClickHouse TSV share
//    \t \n \r \\ \b \f \v escapes and \N for NULL (verified on 18.16). PG's octal/hex
//    escapes (\101, \x41), which ClickHouse does not read alike, are decoded and re-escaped.
//  - bool t/f -> 1/0; float Infinity/-Infinity/NaN -> inf/-inf/nan (-nan inside arrays:
//    18.16 takes "nan" after '[' for the start of NULL).
//  - decimal NaN/Infinity: error (ClickHouse would store 0).
//  - bytea \x0a0b (in COPY text: \\x0a0b) -> the raw bytes, TSV-escaped.
//  - date: range-checked (ClickHouse turns out-of-range dates into 0 or clamps them).
//  - timestamp[tz] for DateTime64(6, 'UTC'): "YYYY-MM-DD hh:mm:ss.ffffff", offsets applied.
//  - NOT NULL arrays {1,NULL,"a b"} -> [1,NULL,'a b']: ClickHouse reads an array field of
//    TSV in its quoted-literal syntax, so elements carry exactly one level of escaping.
//    (Nullable array columns are text: ClickHouse has no Nullable(Array).)
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/clickhouse/pg_text.h"  // unescape_copy_field
#include "connectors/clickhouse/type_map.h"

namespace ferry::clickhouse {

class TsvEncoder {
 public:
  explicit TsvEncoder(const TablePlan& plan);

  // Converts the complete rows of `chunk` and appends them to `out`. Returns the number
  // of rows. Throws ferry::Error (Permanent) naming table, column and the value
  // (truncated) when a value cannot be converted, or the row when it is malformed.
  size_t encode(std::string_view chunk, std::string& out);

  size_t columns() const { return columns_.size(); }
  const ClickHouseColumn& column(size_t i) const { return columns_[i]; }

  // Converts ONE value of column `i` given as the source's canonical text rendering
  // UNESCAPED (not COPY-escaped: it may hold raw tabs, newlines and backslashes; not
  // NULL) and appends its ClickHouse TSV field. Same conversions and errors as encode().
  void encode_value(size_t i, std::string_view value, std::string& out);

  // Appends the TSV field of the value a column of this type holds by default
  // (0, '', 1970-01-01, [], the zero UUID...): for values that are unknown.
  static void append_default(const ClickHouseColumn& c, std::string& out);

 private:
  void encode_field(const ClickHouseColumn& c, std::string_view raw, bool has_backslash, std::string& out);
  // bytea / array values already unescaped; `raw` is only for messages.
  void encode_bytes(const ClickHouseColumn& c, std::string_view value, std::string_view raw, std::string& out);
  void encode_array(const ClickHouseColumn& c, std::string_view value, std::string_view raw, std::string& out);
  void encode_element(const ClickHouseColumn& c, std::string_view raw_field, std::string_view v, std::string& out);
  [[noreturn]] void fail(const ClickHouseColumn& c, std::string_view raw, std::string_view reason) const;
  [[noreturn]] void fail_row(size_t row, std::string_view reason) const;

  std::string table_;  // "public.orders -> `db`.`t`" for messages
  std::vector<ClickHouseColumn> columns_;
  std::string scratch_;  // COPY-unescaped value (arrays, bytea)
  std::string element_;  // unquoted array element
};

// Helpers, exposed for tests.
// Appends `bytes` escaped for a ClickHouse TSV field.
void append_tsv_escaped(std::string& out, std::string_view bytes);

}  // namespace ferry::clickhouse
