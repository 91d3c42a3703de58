#include <gtest/gtest.h>

#include "connectors/clickhouse/capabilities.h"
#include "core/error.h"

using namespace ferry;
using namespace ferry::clickhouse;

namespace {
const Capabilities v18 = Capabilities::from_version("18.16.1");
const Capabilities v23 = Capabilities::from_version("23.8.2.7 (official build)");
}  // namespace

TEST(ClickHouseCapabilities, ParsesVersionsAndThresholds) {
  EXPECT_EQ(v18.major, 18);
  EXPECT_EQ(v18.minor, 16);
  EXPECT_EQ(v18.version, "18.16.1");
  EXPECT_FALSE(v18.has_datetime64);
  EXPECT_FALSE(v18.has_date32);
  EXPECT_FALSE(v18.has_bool);
  EXPECT_FALSE(v18.has_nullable_key);
  EXPECT_FALSE(v18.has_exchange_tables);
  EXPECT_FALSE(v18.has_is_deleted_engine_arg);

  auto c = Capabilities::from_version("20.1.2.4");
  EXPECT_TRUE(c.has_datetime64);
  EXPECT_FALSE(c.has_nullable_key);
  EXPECT_TRUE(Capabilities::from_version("20.7.1").has_nullable_key);
  EXPECT_FALSE(Capabilities::from_version("20.9.7").has_exchange_tables);
  EXPECT_TRUE(Capabilities::from_version("20.10.2").has_exchange_tables);
  EXPECT_FALSE(Capabilities::from_version("21.8.1").has_date32);
  EXPECT_TRUE(Capabilities::from_version("21.9.1").has_date32);
  EXPECT_FALSE(Capabilities::from_version("22.2.1").has_bool);
  EXPECT_TRUE(Capabilities::from_version("22.3.1").has_bool);
  EXPECT_FALSE(Capabilities::from_version("23.1.9").has_is_deleted_engine_arg);
  EXPECT_TRUE(v23.has_is_deleted_engine_arg);
  EXPECT_EQ(v23.version, "23.8.2.7");
  EXPECT_TRUE(Capabilities::from_version("24.3.1.2672\n").at_least(24, 3));

  // Ranges of Date32/DateTime64.
  EXPECT_EQ(v18.ext_max_day, days_from_civil(2105, 12, 31));
  EXPECT_EQ(Capabilities::from_version("21.4.1").ext_min_day, days_from_civil(1925, 1, 1));
  EXPECT_EQ(v23.ext_min_day, days_from_civil(1900, 1, 1));
  EXPECT_EQ(v23.ext_max_day, days_from_civil(2299, 12, 31));

  EXPECT_THROW(Capabilities::from_version("garbage"), Error);
  EXPECT_THROW(Capabilities::from_version(""), Error);
}

TEST(ClickHouseCapabilities, CivilDays) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2020, 1, 2), 18263);  // toUInt16(toDate('2020-01-02')) on 18.16
  EXPECT_EQ(days_from_civil(2105, 12, 31), 49672);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  int y;
  unsigned m, d;
  civil_from_days(-25567, y, m, d);
  EXPECT_EQ(y, 1900);
  EXPECT_EQ(m, 1u);
  EXPECT_EQ(d, 1u);
  for (int32_t day : {-200000, -1, 0, 1, 59, 60, 11016, 49672, 120000}) {
    civil_from_days(day, y, m, d);
    EXPECT_EQ(days_from_civil(y, m, d), day);
  }
}

// The fuzzer found a 7-digit year overflowing the era arithmetic (signed overflow, UB).
TEST(ClickHouseCapabilities, CivilDaysAtTheEdgesOfSourceYears) {
  EXPECT_EQ(days_from_civil(5874897, 12, 31), 2145042905);  // PostgreSQL's last date
  EXPECT_EQ(days_from_civil(-4713, 11, 24), -2440588);        // PostgreSQL's first (4714 BC)
  EXPECT_EQ(days_from_civil(24779, 1, 1), 8330816);
}
