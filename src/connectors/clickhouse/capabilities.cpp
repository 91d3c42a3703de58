#include "connectors/clickhouse/capabilities.h"

#include "core/error.h"

namespace ferry::clickhouse {

// Howard Hinnant's algorithms (public domain), valid for any proleptic Gregorian date.
// The era arithmetic runs in 64 bits so that any int year is defined behaviour; callers
// keep years inside [-5877641, 5879610], where the day number fits in 32 bits.
int32_t days_from_civil(int year, unsigned m, unsigned d) {
  const int64_t y = static_cast<int64_t>(year) - (m <= 2);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int32_t>(era * 146097 + static_cast<int64_t>(doe) - 719468);
}

void civil_from_days(int32_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yoe) + era * 400 + (m <= 2);
}

Capabilities Capabilities::from_version(std::string_view version) {
  Capabilities c;
  size_t i = 0;
  while (i < version.size() && (version[i] == ' ' || version[i] == '\n' || version[i] == '\r')) ++i;
  auto read_int = [&](int& out) {
    size_t start = i;
    long v = 0;
    while (i < version.size() && version[i] >= '0' && version[i] <= '9' && i - start < 6)
      v = v * 10 + (version[i++] - '0');
    out = static_cast<int>(v);
    return i > start;
  };
  if (!read_int(c.major) || i >= version.size() || version[i] != '.' || (++i, !read_int(c.minor)))
    throw permanent_error("cannot understand the ClickHouse version '" + std::string(version.substr(0, 64)) + "'");
  size_t end = version.find_first_of(" \r\n");
  c.version = std::string(version.substr(0, end == std::string_view::npos ? version.size() : end));
  c.version.erase(0, c.version.find_first_not_of(' '));

  c.has_datetime64 = c.at_least(20, 1);
  c.has_nullable_key = c.at_least(20, 7);
  c.has_exchange_tables = c.at_least(20, 10);
  c.has_date32 = c.at_least(21, 9);
  c.has_bool = c.at_least(22, 3);
  c.has_is_deleted_engine_arg = c.at_least(23, 2);

  if (c.at_least(22, 8)) {
    c.ext_min_day = days_from_civil(1900, 1, 1);
    c.ext_max_day = days_from_civil(2299, 12, 31);
  } else if (c.at_least(21, 4)) {
    c.ext_min_day = days_from_civil(1925, 1, 1);
    c.ext_max_day = days_from_civil(2283, 11, 11);
  } else {
    c.ext_min_day = kDateMinDay;
    c.ext_max_day = kDateMaxDay;
  }
  return c;
}

}  // namespace ferry::clickhouse
