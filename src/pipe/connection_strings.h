// Connection strings as users write them in config: finding passwords that
// must not be there, and parsing the mysql:// form. Pure, no I/O.
#pragma once
#include <optional>
#include <string>

namespace ferry {

// True when a libpq keyword string (password=...) or a URL (user:pw@host,
// ?password=) carries a password: config refuses those, secrets come from
// password_env.
bool dsn_has_password(const std::string& dsn);

struct MysqlUrl {
  std::string user, host, database;
  int port = 3306;
};

// mysql://user@host:port/db (also mariadb://). On failure returns nullopt and
// sets `why` to the reason, never echoing the URL itself.
std::optional<MysqlUrl> parse_mysql_url(const std::string& url, std::string& why);

}  // namespace ferry
