#include <gtest/gtest.h>

#include "connectors/clickhouse/server_error.h"
#include "core/error.h"

using namespace ferry;
using namespace ferry::clickhouse;

TEST(ClickHouseServerError, ParsesOldAndNewFormats) {
  auto e = parse_server_exception(
      "Code: 60, e.displayText() = DB::Exception: Table default.nope doesn't exist., e.what() = DB::Exception\n");
  EXPECT_EQ(e.code, 60);
  EXPECT_EQ(e.message, "Code: 60, DB::Exception: Table default.nope doesn't exist.");
  e = parse_server_exception(
      "Code: 241. DB::Exception: Memory limit (total) exceeded. (MEMORY_LIMIT_EXCEEDED) (version 23.8.2.7 (official "
      "build))\n");
  EXPECT_EQ(e.code, 241);
  e = parse_server_exception("whatever", "252");
  EXPECT_EQ(e.code, 252);
  EXPECT_EQ(parse_server_exception("<html>bad gateway</html>").code, 0);
}

TEST(ClickHouseServerError, Classifies) {
  EXPECT_EQ(classify_exception_code(62), ErrorKind::Permanent);   // syntax
  EXPECT_EQ(classify_exception_code(60), ErrorKind::Permanent);   // unknown table
  EXPECT_EQ(classify_exception_code(50), ErrorKind::Permanent);   // unknown type
  EXPECT_EQ(classify_exception_code(27), ErrorKind::Permanent);   // cannot parse input
  EXPECT_EQ(classify_exception_code(193), ErrorKind::Permanent);  // wrong password
  EXPECT_EQ(classify_exception_code(241), ErrorKind::Transient);  // memory limit
  EXPECT_EQ(classify_exception_code(252), ErrorKind::Transient);  // too many parts
  EXPECT_EQ(classify_exception_code(159), ErrorKind::Transient);  // timeout
  EXPECT_EQ(classify_exception_code(202), ErrorKind::Transient);  // too many queries

  Error err = http_status_error(
      404, "Code: 60, e.displayText() = DB::Exception: Table a.b doesn't exist., e.what() = DB::Exception", "",
      "query 'SELECT 1'");
  EXPECT_EQ(err.kind(), ErrorKind::Permanent);
  EXPECT_NE(std::string(err.what()).find("ClickHouse error 60 on query 'SELECT 1'"), std::string::npos) << err.what();
  EXPECT_EQ(http_status_error(502, "<html>Bad Gateway</html>", "", "q").kind(), ErrorKind::Transient);
  EXPECT_EQ(http_status_error(403, "", "", "q").kind(), ErrorKind::Permanent);
}
