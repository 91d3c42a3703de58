// MysqlSource::precheck: what a MariaDB / MySQL server must provide for a pipe.
#include <algorithm>
#include <functional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "connectors/mysql/mysql_connection.h"
#include "connectors/mysql/mysql_source.h"
#include "core/check.h"
#include "core/error.h"
#include "core/ident.h"

namespace ferry::mysql {

namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::toupper);
  return s;
}

// Whether any global (ON *.*) grant line names one of `privileges`, or ALL PRIVILEGES.
bool has_global(const std::vector<std::string>& grants, std::initializer_list<const char*> privileges) {
  for (const auto& g : grants) {
    std::string u = upper(g);
    size_t on = u.find(" ON *.*");
    if (on == std::string::npos) continue;
    std::string privs = u.substr(0, on);
    if (privs.find("ALL PRIVILEGES") != std::string::npos) return true;
    for (const char* p : privileges)
      if (privs.find(p) != std::string::npos) return true;
  }
  return false;
}

std::string duration_text(long long seconds) {
  if (seconds % 86400 == 0) return fmt::format("{} day(s)", seconds / 86400);
  if (seconds % 3600 == 0) return fmt::format("{} hour(s)", seconds / 3600);
  return fmt::format("{} s", seconds);
}

}  // namespace

void MysqlSource::precheck(const PipeSpec& pipe, std::vector<CheckResult>& out) {
  const bool streams = mode_streams(pipe.mode);
  const std::string address = fmt::format("{}:{}", peer_.host.empty() ? "127.0.0.1" : peer_.host,
                                          peer_.port > 0 ? peer_.port : 3306);
  std::vector<std::string> dependent;
  if (streams)
    dependent = {"source log_bin", "source binlog_format", "source binlog_row_image", "source binlog_row_metadata",
                 "source server_id", "source replication privilege", "source gtid mode", "source binlog retention"};
  std::lock_guard<std::mutex> lock(mu_);
  try {
    MysqlConnection& c = meta();
    std::string user = c.value("SELECT CURRENT_USER()");
    out.push_back(check_pass("source connectivity", fmt::format("connected to {} as {}", address, user)));
  } catch (const std::exception& e) {
    meta_.reset();
    out.push_back(check_fail("source connectivity", e.what(),
                             "check that MariaDB/MySQL runs there, that the user may connect from this host, and the "
                             "peer's host, port, user and password_env"));
    out.push_back(check_fail("source version", "not connected", ""));
    for (const auto& d : dependent) out.push_back(check_fail(d, "not connected", ""));
    return;
  }
  MysqlConnection& c = meta();
  auto guarded = [&](const std::string& name, const std::function<CheckResult()>& fn) {
    try {
      out.push_back(fn());
    } catch (const std::exception& e) {
      out.push_back(check_fail(name, e.what(), "see the reason; the pre-check query failed"));
    }
  };
  const bool mariadb = c.is_mariadb();
  const unsigned long version = c.server_version_number();
  guarded("source version", [&] {
    std::string v = (mariadb ? "MariaDB " : "MySQL ") + c.server_version();
    if (mariadb && version < 100500)
      return check_fail("source version", v + ": ferry needs MariaDB 10.5 or newer", "upgrade MariaDB");
    if (!mariadb && version < 80000)
      return check_fail("source version", v + ": ferry needs MySQL 8.0 or newer", "upgrade MySQL");
    if (!mariadb)
      return check_warn("source version", v + ": MySQL support is written for 8.0 but not tested with a live server",
                        "try it on a copy first, and report what fails");
    return check_pass("source version", v);
  });
  if (!streams) return;

  auto variable = [&](const std::string& name) -> std::optional<std::string> {
    std::optional<Row> r = c.first_row("SHOW GLOBAL VARIABLES LIKE " + c.literal(name));
    if (!r || r->size() < 2 || !(*r)[1]) return std::nullopt;
    return *(*r)[1];
  };
  auto setting = [&](const std::string& name, const std::string& want, const std::string& hint) {
    guarded("source " + name, [&] {
      std::optional<std::string> v = variable(name);
      if (!v) {
        if (name == "binlog_row_metadata")  // MariaDB < 10.5, MySQL < 8.0.1: names come from the catalog
          return check_warn("source " + name, "the server has no binlog_row_metadata",
                            "upgrade to MariaDB 10.5+ / MySQL 8.0.1+ so the binlog carries column names");
        return check_fail("source " + name, "the server has no variable " + name, hint);
      }
      if (upper(*v) == want) return check_pass("source " + name, name + " = " + *v);
      return check_fail("source " + name, fmt::format("{} = {}; change data capture needs {}", name, *v, want), hint);
    });
  };
  setting("log_bin", "ON", "start the server with log_bin (e.g. log_bin = binlog in my.cnf) and restart it");
  setting("binlog_format", "ROW", "SET GLOBAL binlog_format = 'ROW' (and binlog_format = ROW in my.cnf)");
  setting("binlog_row_image", "FULL", "SET GLOBAL binlog_row_image = 'FULL' (and in my.cnf)");
  setting("binlog_row_metadata", "FULL", "SET GLOBAL binlog_row_metadata = 'FULL' (and in my.cnf)");
  guarded("source server_id", [&] {
    std::string id = variable("server_id").value_or("0");
    if (id == "0")
      return check_fail("source server_id", "server_id = 0: the server cannot serve replicas",
                        "set server_id to a unique non-zero value in my.cnf and restart");
    return check_pass("source server_id", "server_id = " + id);
  });
  guarded("source replication privilege", [&] {
    std::vector<std::string> grants;
    for (const Row& r : c.rows("SHOW GRANTS FOR CURRENT_USER()"))
      if (!r.empty() && r[0]) grants.push_back(*r[0]);
    std::string user = c.value("SELECT CURRENT_USER()");
    bool slave = has_global(grants, {"REPLICATION SLAVE", "REPLICATION REPLICA", "SUPER"});
    bool client = has_global(grants, {"REPLICATION CLIENT", "BINLOG MONITOR", "REPLICA MONITOR", "SLAVE MONITOR",
                                      "SUPER"});
    if (slave && client)
      return check_pass("source replication privilege", user + " may read the binlog and its status");
    std::vector<std::string> missing;
    if (!slave) missing.push_back("REPLICATION SLAVE");
    if (!client) missing.push_back(mariadb ? "BINLOG MONITOR (or REPLICATION CLIENT)" : "REPLICATION CLIENT");
    std::string list = fmt::format("{}", fmt::join(missing, ", "));
    return check_fail("source replication privilege", user + " lacks " + list,
                      fmt::format("GRANT REPLICATION SLAVE, {} ON *.* TO {}", mariadb ? "BINLOG MONITOR" : "REPLICATION CLIENT",
                                  user));
  });
  guarded("source gtid mode", [&] {
    if (mariadb) {
      std::string pos = c.value("SELECT @@global.gtid_current_pos");
      std::string strict = variable("gtid_strict_mode").value_or("OFF");
      return check_pass("source gtid mode", fmt::format("MariaDB GTIDs (current position \"{}\", gtid_strict_mode {}); "
                                                        "ferry positions by binlog file and offset", pos, strict));
    }
    std::string mode = variable("gtid_mode").value_or("OFF");
    return check_pass("source gtid mode", "gtid_mode = " + mode + "; ferry positions by binlog file and offset");
  });
  guarded("source binlog retention", [&] {
    long long seconds = 0;
    if (auto s = variable("binlog_expire_logs_seconds"); s && *s != "0") seconds = std::stoll(*s);
    else if (auto d = variable("expire_logs_days"); d) seconds = static_cast<long long>(std::stod(*d) * 86400);
    if (seconds == 0)
      return check_pass("source binlog retention", "binlogs are not purged automatically (watch the disk)");
    // The load must finish (and the stream start reading) before the binlogs written
    // meanwhile are purged; 20 MB/s is a cautious load rate.
    long long bytes = 0;
    for (const auto& t : pipe.tables) {
      auto [db, name] = split_table(t.source, peer_.database);
      bytes += std::stoll(c.value(fmt::format("SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) FROM "
                                              "information_schema.TABLES WHERE TABLE_SCHEMA = {} AND TABLE_NAME = {}",
                                              c.literal(db), c.literal(name))));
    }
    long long load = bytes / (20LL << 20);
    std::string what = fmt::format("binlogs are purged after {}; the load is estimated at {} s", duration_text(seconds),
                                   load);
    if (seconds < 86400 || seconds < 2 * load)
      return check_warn("source binlog retention", what,
                        "keep binlogs longer than twice the load (SET GLOBAL binlog_expire_logs_seconds = 604800), "
                        "or a paused pipe may need a resync");
    return check_pass("source binlog retention", what);
  });
}

}  // namespace ferry::mysql
