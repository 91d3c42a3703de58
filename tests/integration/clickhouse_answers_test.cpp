// Reading TabSeparated answers of the real ClickHouse server: every byte of a String, the
// text \N beside a NULL, and NUL before digits come back exactly (tsv_answer.h).
#include <gtest/gtest.h>

#include <string>

#include <fmt/format.h>

#include "connectors/clickhouse/http_client.h"
#include "connectors/clickhouse/tsv_answer.h"
#include "test_env.h"

using namespace ferry;
using namespace ferry::clickhouse;
using namespace std::string_literals;

namespace {

HttpClient client() {
  HttpOptions o;
  o.url = test::require_env("FERRY_TEST_CH_URL");
  return HttpClient(o);
}

}  // namespace

TEST(ClickHouseAnswers, EveryByteOfAStringComesBackExactly) {
  std::string all, hex;
  for (int b = 0; b < 256; ++b) {
    all.push_back(static_cast<char>(b));
    hex += fmt::format("{:02X}", b);
  }
  HttpClient ch = client();
  std::string answer = ch.query(fmt::format(
      "SELECT unhex('{0}'), concat(unhex('00'), '12'), 'it\\'s', '\\\\N', NULL, '' FORMAT TabSeparated", hex));
  auto rows = tsv_rows(answer);
  ASSERT_EQ(rows.size(), 1u) << answer;
  ASSERT_EQ(rows[0].size(), 6u) << answer;
  EXPECT_EQ(rows[0][0], all);
  EXPECT_EQ(rows[0][1], "\0"s "12");
  EXPECT_EQ(rows[0][2], "it's");
  EXPECT_EQ(rows[0][5], "");
  // The text \N and NULL are told apart only while the field is still escaped.
  std::string line = answer.substr(0, answer.find('\n'));
  auto fields = split_tsv_line(line);
  ASSERT_EQ(fields.size(), 6u);
  EXPECT_FALSE(is_tsv_null(fields[3]));
  EXPECT_EQ(unescape_tsv_field(fields[3]), "\\N");
  EXPECT_TRUE(is_tsv_null(fields[4]));
}
