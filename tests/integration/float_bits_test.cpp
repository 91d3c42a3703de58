// Floats from PostgreSQL into ClickHouse bit for bit, against the real servers: 100k random
// double precision and real values (random 64/32-bit patterns, plus subnormals, +-0,
// extremes, NaN and infinities) through a snapshot pipe, and rows changed while streaming.
//
// PostgreSQL keeps a NaN's sign in storage ('-NaN', -Infinity * 0) but prints every NaN as
// "NaN", so nothing that reads its text (COPY, pgoutput) can carry it: NaNs are compared as
// "is NaN", and ClickHouse must hold the canonical quiet NaN that ferry writes.
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "core/ident.h"
#include "pipe/runner.h"
#include "support.h"
#include "../shared/pipe_spec.h"

using namespace ferry;
using namespace ferry::test;

namespace {

struct Bits {
  uint64_t d = 0;
  uint32_t r = 0;
};

double as_double(uint64_t b) {
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}
float as_float(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

// PostgreSQL input text of a value (shortest round trip, which its float8in/float4in parse exactly).
template <class T>
std::string pg_text(T v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// Bits of PostgreSQL's text output; NaN as the canonical quiet NaN.
template <class T, class U>
U bits_of_text(const std::string& text) {
  T v = std::numeric_limits<T>::quiet_NaN();
  if (text != "NaN") {
    auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    EXPECT_TRUE(r.ec == std::errc() && r.ptr == text.data() + text.size()) << text;
  }
  U u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

// hex(reinterpretAsFixedString(x)) of ClickHouse: the little-endian bytes.
uint64_t bits_of_le_hex(const std::string& hex) {
  uint64_t v = 0;
  for (size_t i = hex.size(); i >= 2; i -= 2) v = (v << 8) | std::stoull(hex.substr(i - 2, 2), nullptr, 16);
  return v;
}

std::vector<Bits> test_values(size_t random_count) {
  const uint64_t dbl_max = 0x7FEFFFFFFFFFFFFF, dbl_min = 0x0010000000000000, sign = 0x8000000000000000;
  std::vector<Bits> v = {
      {0, 0},
      {sign, 0x80000000},
      {dbl_max, 0x7F7FFFFF},
      {dbl_max | sign, 0xFF7FFFFF},
      {dbl_min, 0x00800000},
      {1, 1},                                    // denorm_min
      {1 | sign, 0x80000001},
      {0x000FFFFFFFFFFFFF, 0x007FFFFF},          // largest subnormal
      {0x7FF0000000000000, 0x7F800000},          // Infinity
      {0xFFF0000000000000, 0xFF800000},          // -Infinity
      {0x7FF8000000000000, 0x7FC00000},          // NaN
      {0x3FF0000000000001, 0x3F800001},          // 1 + ulp
      {0x3FB999999999999A, 0x3DCCCCCD},          // 0.1
  };
  std::mt19937_64 rng(20261202);
  while (v.size() < random_count) {
    uint64_t d = rng();
    uint32_t r = static_cast<uint32_t>(rng());
    if (v.size() % 10 == 0) {  // every tenth: subnormals
      d &= 0x800FFFFFFFFFFFFF;
      r &= 0x807FFFFF;
    }
    v.push_back({d, r});
  }
  return v;
}

void insert_values(Sandbox& sb, const std::string& table, const std::vector<Bits>& values, size_t first_id) {
  for (size_t start = 0; start < values.size(); start += 5000) {
    std::string sql = "INSERT INTO " + table + " VALUES ";
    for (size_t i = start; i < values.size() && i < start + 5000; ++i)
      sql += fmt::format("{}({}, '{}', '{}')", i == start ? "" : ",", first_id + i, pg_text(as_double(values[i].d)),
                         pg_text(as_float(values[i].r)));
    sb.pg_exec(sql);
  }
}

// Compares every row of PostgreSQL's `table` (as text, converted to bits here) with
// ClickHouse's (as bits); returns the number of rows compared.
size_t expect_same_bits(Sandbox& sb, const std::string& table) {
  auto pg = sb.pg_rows("SELECT id::text, d::text, r::text FROM " + table + " t ORDER BY t.id");
  auto ch = sb.ch_rows(fmt::format(
      "SELECT toString(id), hex(reinterpretAsFixedString(d)), hex(reinterpretAsFixedString(r)) FROM {} FINAL "
      "WHERE _ferry_is_deleted = 0 ORDER BY id",
      ch_table(sb, table)));
  EXPECT_EQ(pg.size(), ch.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < pg.size() && i < ch.size(); ++i) {
    if (pg[i][0] != ch[i][0]) {
      ADD_FAILURE() << "row " << i << ": id " << pg[i][0] << " in PostgreSQL, " << ch[i][0] << " in ClickHouse";
      return pg.size();
    }
    uint64_t want_d = bits_of_text<double, uint64_t>(pg[i][1]);
    uint32_t want_r = bits_of_text<float, uint32_t>(pg[i][2]);
    uint64_t got_d = bits_of_le_hex(ch[i][1]);
    uint32_t got_r = static_cast<uint32_t>(bits_of_le_hex(ch[i][2]));
    if (got_d != want_d || got_r != want_r) {
      if (++mismatches <= 10)
        ADD_FAILURE() << "id " << pg[i][0] << ": PostgreSQL " << pg[i][1] << " / " << pg[i][2]
                      << fmt::format(" = {:016x} / {:08x}, ClickHouse {:016x} / {:08x}", want_d, want_r, got_d, got_r);
    }
  }
  EXPECT_EQ(mismatches, 0u);
  return pg.size();
}

PipeSpec pipe_of(const std::string& name, PipeMode mode, const std::string& table) {
  PipeSpec p = pipe_spec(name, mode, {"public." + table});
  p.settings.snapshot_parallelism = 2;
  p.settings.snapshot_rows_per_partition = 25000;
  p.settings.max_retries = 0;
  return p;
}

}  // namespace

TEST(FloatBits, SnapshotCopiesEveryDoubleAndRealBitForBit) {
  Sandbox sb("fbits");
  sb.pg_exec("CREATE TABLE f (id integer PRIMARY KEY, d double precision NOT NULL, r real NOT NULL)");
  const std::vector<Bits> values = test_values(100000);
  insert_values(sb, "f", values, 1);
  // PostgreSQL stored exactly what was generated (its text input is correctly rounded),
  // and its text output (extra_float_digits 1: shortest) reads back to the same bits.
  auto pg = sb.pg_rows("SELECT d::text, r::text FROM f ORDER BY id");
  ASSERT_EQ(pg.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(as_double(values[i].d))) continue;
    ASSERT_EQ((bits_of_text<double, uint64_t>(pg[i][0])), values[i].d) << pg[i][0];
    if (!std::isnan(as_float(values[i].r))) {
      ASSERT_EQ((bits_of_text<float, uint32_t>(pg[i][1])), values[i].r) << pg[i][1];
    }
  }
  // A NaN PostgreSQL holds with its sign bit set still prints as NaN.
  EXPECT_EQ(sb.pg_value("SELECT encode(float8send('-NaN'::float8), 'hex') || ' ' || '-NaN'::float8::text"),
            "fff8000000000000 NaN");

  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  PipeSpec pipe = pipe_of("fsnap", PipeMode::Snapshot, "f");
  PipeRunner runner(*catalog, pipe, sb.pg_peer(), sb.ch_peer());
  ASSERT_EQ(runner.run(), PipeState::Completed) << catalog->get_pipe("fsnap")->last_error;
  EXPECT_EQ(expect_same_bits(sb, "f"), values.size());
}

TEST(FloatBits, ChangesStreamEveryDoubleAndRealBitForBit) {
  Sandbox sb("fbitscdc");
  sb.pg_exec("CREATE TABLE g (id integer PRIMARY KEY, d double precision NOT NULL, r real NOT NULL)");
  const std::vector<Bits> values = test_values(20000);
  insert_values(sb, "g", std::vector<Bits>(values.begin(), values.begin() + 1000), 1);
  std::string config = sb.write_config(R"(
  fcdc:
    source: src
    destination: dst
    mode: snapshot+cdc
    tables: [ public.g ]
    settings: { sync_interval: 200ms, batch_size: 5000 }
)");
  std::string catalog_arg = "sqlite:" + sb.catalog_path();
  std::unique_ptr<Catalog> catalog = open_catalog(sb.catalog_path());
  pid_t pid = spawn_ferry_run(config, catalog_arg, {"--confirm"});
  ASSERT_TRUE(reaches_state(*catalog, "fcdc", PipeState::Running));
  // Inserts, then updates that give every row of the snapshot another value: both streamed.
  insert_values(sb, "g", std::vector<Bits>(values.begin() + 1000, values.end()), 1001);
  std::vector<Bits> updated(values.rbegin(), values.rbegin() + 1000);
  for (size_t i = 0; i < updated.size(); i += 500) {
    std::string sql;
    for (size_t k = i; k < i + 500 && k < updated.size(); ++k)
      sql += fmt::format("UPDATE g SET d = '{}', r = '{}' WHERE id = {};", pg_text(as_double(updated[k].d)),
                         pg_text(as_float(updated[k].r)), k + 1);
    sb.pg_exec(sql);
  }
  const std::string max_id = std::to_string(values.size());
  EXPECT_TRUE(eventually([&] {
    return sb.ch_value(fmt::format("SELECT count() FROM {}.g FINAL WHERE _ferry_is_deleted = 0",
                                   quote_backtick_ident(sb.name()))) == max_id &&
           sb.pg_value("SELECT d::text FROM g WHERE id = 1000") ==
               sb.ch_value(fmt::format("SELECT toString(d) FROM {}.g FINAL WHERE id = 1000",
                                       quote_backtick_ident(sb.name())));
  }));
  EXPECT_TRUE(stop_ferry_run(pid));
  EXPECT_EQ(expect_same_bits(sb, "g"), values.size());
}
