// What a statement of a binlog QUERY event means for a pipe's tables (pure).
//
// With binlog_format=ROW, data changes arrive as ROWS events; QUERY events carry DDL
// (and BEGIN/COMMIT). A change stream keeps going through DDL that leaves its tables'
// rows readable the same way (ADD COLUMN: the next TABLE_MAP brings the new layout),
// and must stop at DDL after which the destination no longer matches (a dropped,
// renamed or retyped column, a dropped or renamed table): those need a resync. So must
// it at INSERT/UPDATE/DELETE of a pipe table logged as a statement (a session with
// binlog_format=STATEMENT or MIXED): those changes cannot be read.
//
// Names: `db`.`t`, db.t or t (then in the event's default database); backticks and
// comments (--, #, /* */) are understood, executable comments (/*! ... */, /*M! */) are
// read as code. Keywords are case-insensitive; table names are compared
// case-insensitively too (a false alarm stops a pipe, a missed one corrupts it).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace ferry::mysql {

struct DdlEffect {
  enum Kind { Unrelated, AddColumn, Truncate, Breaking } kind = Unrelated;
  // The pipe table concerned ("db.table", as given in `tables`); empty when the statement
  // names none. Unrelated with a table: DDL that leaves its rows as they are (ADD INDEX).
  std::string table;
  std::string reason;  // Breaking: what the statement does ("drops column c of db.t")
};

// Classifies `sql` (run with default database `database`, maybe empty) against the
// pipe's tables ("db.table"). A statement it cannot parse is Unrelated unless it
// names a pipe table in a way listed above.
DdlEffect classify_ddl(std::string_view sql, std::string_view database, const std::vector<std::string>& tables);

}  // namespace ferry::mysql
