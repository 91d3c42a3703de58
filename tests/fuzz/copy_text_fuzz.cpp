// libFuzzer target for the COPY text parsing of the ClickHouse encoders (pg_text.h,
// rowbinary_encoder.h, tsv_encoder.h): the input is a plan byte and COPY text. The plan is
// one of two tables that hold every logical type (arrays included) between them, for
// ClickHouse 18.16 or 23.8, under one on_unrepresentable policy (bytes 0..5: all_types,
// 6..11: mariadb_types).
//
// Contract: only ferry::Error(Permanent) is thrown; an input that encodes gives as many
// rows to both encoders; the sanitizers catch every read outside the input.
//   scripts/fuzz copy_text_fuzz     (corpus: tests/fuzz/corpus/copy_text_fuzz)
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/api/destination.h"
#include "connectors/clickhouse/rowbinary_encoder.h"
#include "connectors/clickhouse/tsv_encoder.h"
#include "fuzz_contract.h"

using namespace ferry;
using namespace ferry::clickhouse;

namespace {

Column column(std::string name, LogicalType type, bool nullable, LogicalType element = LogicalType::String) {
  Column c;
  c.name = std::move(name);
  c.type = type;
  c.nullable = nullable;
  c.element = element;
  return c;
}

// The columns of tests/fixtures/clickhouse/all_types.copy (the seed corpus's rows).
TableSchema all_types() {
  TableSchema t;
  t.schema = "public";
  t.name = "all_types";
  for (LogicalType type : {LogicalType::Int64, LogicalType::Int16, LogicalType::Float32, LogicalType::Float64,
                           LogicalType::Decimal, LogicalType::NumericText, LogicalType::Bool, LogicalType::String,
                           LogicalType::Bytes, LogicalType::Date, LogicalType::Timestamp, LogicalType::TimestampTz,
                           LogicalType::Uuid, LogicalType::Json})
    t.columns.push_back(column("c" + std::to_string(t.columns.size()), type, true));
  for (LogicalType element : {LogicalType::Int32, LogicalType::String, LogicalType::Date, LogicalType::Float64,
                              LogicalType::Json})
    t.columns.push_back(column("a" + std::to_string(t.columns.size()), LogicalType::Array, false, element));
  t.columns.push_back(column("maybe_ints", LogicalType::Array, true, LogicalType::Int32));
  t.columns[0].key_position = 1;
  t.columns[0].nullable = false;
  t.columns[4].precision = 10;
  t.columns[4].scale = 2;
  t.columns[18].nullable = true;
  return t;
}

// The types MariaDB brought, in one row (tests/fuzz/corpus/copy_text_fuzz/mariadb_types).
TableSchema mariadb_types() {
  TableSchema t;
  t.schema = "db";
  t.name = "mariadb_types";
  for (LogicalType type : {LogicalType::Int8, LogicalType::UInt8, LogicalType::UInt16, LogicalType::UInt32,
                           LogicalType::UInt64, LogicalType::Year, LogicalType::Bit, LogicalType::Set,
                           LogicalType::Geometry, LogicalType::Date, LogicalType::Timestamp, LogicalType::Decimal})
    t.columns.push_back(column("c" + std::to_string(t.columns.size()), type, true));
  t.columns.back().precision = 65;
  t.columns.back().scale = 30;
  return t;
}

struct Plans {
  std::vector<TablePlan> plans;
  Plans() {
    for (const TableSchema& t : {all_types(), mariadb_types()}) {
      for (const char* version : {"18.16.1", "23.8.2.7"}) {
        for (OnUnrepresentable p : {OnUnrepresentable::Fail, OnUnrepresentable::Null, OnUnrepresentable::Clamp}) {
          DestinationTable d;
          d.name = t.name;
          d.on_unrepresentable = p;
          plans.push_back(plan_table(t, d, "db", Capabilities::from_version(version)));
        }
      }
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Plans all;
  if (size == 0) return 0;
  // The first byte picks the plan (table, server version, policy), the rest is COPY text,
  // in a heap block of exactly its size so that a read past it is an ASan error.
  const TablePlan& plan = all.plans[data[0] % all.plans.size()];
  std::vector<char> copy(data + 1, data + size);
  std::string_view chunk(copy.data(), copy.size());
  std::string out;
  size_t binary_rows = SIZE_MAX, text_rows = SIZE_MAX;
  try {
    RowBinaryEncoder rb(plan);
    binary_rows = rb.encode(chunk, out);
  } catch (const Error& e) {
    fuzz::check_permanent(e);
  }
  try {
    TsvEncoder tsv(plan);
    out.clear();
    text_rows = tsv.encode(chunk, out);
  } catch (const Error& e) {
    fuzz::check_permanent(e);
  }
  if (binary_rows != SIZE_MAX && text_rows != SIZE_MAX && binary_rows != text_rows)
    fuzz::violated("RowBinary and TSV encoders disagree on the row count");
  return 0;
}
