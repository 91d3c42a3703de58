// Identifier quoting. Every identifier that reaches SQL goes through here, so
// names with spaces, quotes, capitals or non-ASCII letters work everywhere.
#pragma once
#include <string>
#include <string_view>

namespace ferry {

// PostgreSQL / SQLite: "a""b"
std::string quote_pg_ident(std::string_view name);
// PostgreSQL string literal: 'it''s'
std::string quote_pg_literal(std::string_view value);
// ClickHouse / MariaDB: `a\`b` (backslash escaping)
std::string quote_backtick_ident(std::string_view name);
// ClickHouse string literal: 'it\'s'
std::string quote_ch_literal(std::string_view value);
// MariaDB identifier: `a``b`
std::string quote_mysql_ident(std::string_view name);

// Splits "schema.table" honouring double quotes ("my.schema"."t"); schema defaults to "public".
struct QualifiedName {
  std::string schema;
  std::string name;
  std::string str() const { return schema + "." + name; }
};
QualifiedName split_qualified(std::string_view text, std::string_view default_schema = "public");

}  // namespace ferry
