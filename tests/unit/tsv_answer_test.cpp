// The decoder of ClickHouse's TabSeparated answers (every escape ClickHouse writes, NULL,
// splitting into rows and fields). tests/integration/clickhouse_answers_test.cpp reads the
// same escapes from the real server.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "connectors/clickhouse/tsv_answer.h"

using namespace ferry::clickhouse;
using namespace std::string_literals;

namespace {

// ClickHouse's writeEscapedString, the way TabSeparated output escapes a String.
std::string clickhouse_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\0': out += "\\0"; break;
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

TEST(TsvAnswer, EveryEscapeClickHouseWrites) {
  EXPECT_EQ(unescape_tsv_field("\\b\\f\\n\\r\\t\\0\\\\\\'"), "\b\f\n\r\t\0\\'"s);
  EXPECT_EQ(unescape_tsv_field("it\\'s a\\ttab"), "it's a\ttab");
  EXPECT_EQ(unescape_tsv_field("plain text ü"), "plain text ü");
  EXPECT_EQ(unescape_tsv_field(""), "");
}

TEST(TsvAnswer, NulIsNeverTheStartOfAnOctalByte) {
  // PostgreSQL COPY would read \012 as a newline; ClickHouse means NUL, then "12".
  EXPECT_EQ(unescape_tsv_field("\\012"), "\0"s "12");
  EXPECT_EQ(unescape_tsv_field("\\0\\0"), "\0\0"s);
  EXPECT_EQ(unescape_tsv_field("\\x41"), "x41");  // no hex escapes either
}

TEST(TsvAnswer, EscapesClickHouseParsesAndOthersStandForThemselves) {
  EXPECT_EQ(unescape_tsv_field("\\a\\v\\e"), "\a\v\x1b");
  EXPECT_EQ(unescape_tsv_field("\\q\\\"\\/"), "q\"/");
  EXPECT_EQ(unescape_tsv_field("end\\"), "end\\");  // a lone backslash at the end is kept
  std::string out = "stale";
  unescape_tsv_field("x", out);
  EXPECT_EQ(out, "x");  // cleared first
}

TEST(TsvAnswer, EveryByteRoundTrips) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string escaped = clickhouse_escape(all + all);
  EXPECT_EQ(escaped.find('\t'), std::string::npos);
  EXPECT_EQ(escaped.find('\n'), std::string::npos);
  EXPECT_EQ(unescape_tsv_field(escaped), all + all);
}

TEST(TsvAnswer, NullIsTheWholeFieldOnly) {
  EXPECT_TRUE(is_tsv_null("\\N"));
  EXPECT_FALSE(is_tsv_null("\\\\N"));  // the text \N
  EXPECT_FALSE(is_tsv_null("\\N "));
  EXPECT_FALSE(is_tsv_null("N"));
  EXPECT_FALSE(is_tsv_null(""));
  EXPECT_EQ(unescape_tsv_field("\\\\N"), "\\N");
  // tsv_rows keeps NULL as "\N".
  auto rows = tsv_rows("\\N\t\\\\N\t\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"\\N", "\\N", ""}));
}

TEST(TsvAnswer, SplitsLinesAtTabs) {
  EXPECT_EQ(split_tsv_line(""), (std::vector<std::string_view>{""}));
  EXPECT_EQ(split_tsv_line("a"), (std::vector<std::string_view>{"a"}));
  EXPECT_EQ(split_tsv_line("a\t\tb\t"), (std::vector<std::string_view>{"a", "", "b", ""}));
  EXPECT_EQ(split_tsv_line("a\\tb\tc"), (std::vector<std::string_view>{"a\\tb", "c"}));  // still escaped
}

TEST(TsvAnswer, RowsOfAnAnswer) {
  EXPECT_TRUE(tsv_rows("").empty());
  using Rows = std::vector<std::vector<std::string>>;
  EXPECT_EQ(tsv_rows("1\tone\n"), (Rows{{"1", "one"}}));
  EXPECT_EQ(tsv_rows("1\tone\n2\ttw\\no"), (Rows{{"1", "one"}, {"2", "tw\no"}}));  // no final line end
  EXPECT_EQ(tsv_rows("\n\n"), (Rows{{""}, {""}}));  // one empty String column, two rows
  EXPECT_EQ(tsv_rows("a\\\\\tb\\'\n"), (Rows{{"a\\", "b'"}}));
}

TEST(TsvAnswer, OneValueAnswer) {
  EXPECT_EQ(answer_value("18.16.1\n"), "18.16.1");
  EXPECT_EQ(answer_value("42 \r\n"), "42");
  EXPECT_EQ(answer_value(""), "");
}
