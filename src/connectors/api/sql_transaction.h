// One SQL transaction around `body` on any connection with exec(sql): commits when the body
// returns, rolls back (best effort) and rethrows when it throws. Shared by the PostgreSQL
// and MariaDB destinations.
#pragma once
#include <string>

namespace ferry {

template <typename Connection, typename Body>
void in_sql_transaction(Connection& c, Body&& body, const std::string& begin = "BEGIN") {
  c.exec(begin);
  try {
    body();
    c.exec("COMMIT");
  } catch (...) {
    try {
      c.exec("ROLLBACK");
    } catch (...) {
    }
    throw;
  }
}

}  // namespace ferry
