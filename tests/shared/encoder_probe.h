// Single values through the ClickHouse encoders in unit tests: a one-column plan made the
// way the destination makes it, the encoder's bytes as hex, and the error a value raises.
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>

#include "connectors/api/destination.h"
#include "connectors/clickhouse/type_map.h"
#include "core/error.h"

namespace ferry::test {

inline const clickhouse::Capabilities kClickHouse18 = clickhouse::Capabilities::from_version("18.16.1");
inline const clickhouse::Capabilities kClickHouse23 = clickhouse::Capabilities::from_version("23.8.2.7");

inline std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

// Little-endian hex of an integer or float.
template <class T>
std::string le(T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  return hex(std::string_view(b, sizeof(T)));
}

// The plan of table db.t holding only `c`, with `policy` set on the destination table
// (so the policy shapes the column type as it does in a pipe).
inline clickhouse::TablePlan one_column_plan(const Column& c, const clickhouse::Capabilities& caps,
                                             OnUnrepresentable policy = OnUnrepresentable::Fail) {
  TableSchema t;
  t.schema = "db";
  t.name = "t";
  t.columns = {c};
  DestinationTable d;
  d.name = "t";
  d.on_unrepresentable = policy;
  return clickhouse::plan_table(t, d, "db", caps);
}

// What `Encoder` writes for one row holding the COPY text value `copy_value`.
template <class Encoder>
std::string encode_one(const clickhouse::TablePlan& plan, std::string_view copy_value) {
  Encoder enc(plan);
  std::string out;
  EXPECT_EQ(enc.encode(std::string(copy_value) + "\n", out), 1u);
  return out;
}

// The message of the Permanent error `f` throws; a test failure when it throws none.
template <class F>
std::string permanent_error(F&& f, std::string_view what) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Permanent) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for " << what;
  return {};
}

inline bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

}  // namespace ferry::test
