#include <gtest/gtest.h>

#include "core/ident.h"

using namespace ferry;

TEST(Ident, Quotes) {
  EXPECT_EQ(quote_pg_ident("My \"T\""), "\"My \"\"T\"\"\"");
  EXPECT_EQ(quote_pg_literal("it's"), "'it''s'");
  EXPECT_EQ(quote_backtick_ident("a`b\\c"), "`a\\`b\\\\c`");
  EXPECT_EQ(quote_ch_literal("it's\\"), "'it\\'s\\\\'");
  EXPECT_EQ(quote_mysql_ident("a`b"), "`a``b`");
}

TEST(Ident, SplitsQualifiedNames) {
  auto q = split_qualified("public.orders");
  EXPECT_EQ(q.schema, "public");
  EXPECT_EQ(q.name, "orders");
  q = split_qualified("orders");
  EXPECT_EQ(q.schema, "public");
  q = split_qualified("\"my.schema\".\"Tab \"\"le\"");
  EXPECT_EQ(q.schema, "my.schema");
  EXPECT_EQ(q.name, "Tab \"le");
}
