#include "pg_destination_support.h"

#include <fmt/format.h>

#include "core/ident.h"

namespace ferry::test {

namespace {
std::vector<std::vector<std::string>> all_rows(PgConnection& c, const std::string& sql) {
  PgResult r = c.exec(sql);
  std::vector<std::vector<std::string>> out;
  for (int i = 0; i < r.rows(); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < r.columns(); ++j) row.push_back(r.is_null(i, j) ? "\\N" : r.get(i, j));
    out.push_back(std::move(row));
  }
  return out;
}
}  // namespace

PgDestinationDb::PgDestinationDb(const Sandbox& sb) : name_(sb.name() + "_dst") {
  admin_ = std::make_unique<PgConnection>(env_or_fail("FERRY_TEST_PG_DSN"), "");
  admin_->exec("CREATE DATABASE " + quote_pg_ident(name_));
  conn_ = std::make_unique<PgConnection>(dsn(), "");
}

PgDestinationDb::~PgDestinationDb() {
  try {
    conn_.reset();
    admin_->exec("DROP DATABASE IF EXISTS " + quote_pg_ident(name_) + " WITH (FORCE)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "destination cleanup: %s\n", e.what());
  }
}

std::string PgDestinationDb::dsn() const { return env_or_fail("FERRY_TEST_PG_DSN") + " dbname=" + name_; }

PeerSpec PgDestinationDb::peer() const {
  PeerSpec p;
  p.name = "dst";
  p.type = PeerType::Postgres;
  p.dsn = dsn();
  return p;
}

std::vector<std::vector<std::string>> PgDestinationDb::rows(const std::string& sql) { return all_rows(*conn_, sql); }
std::string PgDestinationDb::value(const std::string& sql) { return conn_->query_value(sql); }

std::string PgDestinationDb::write_config(const Sandbox& sb, const std::string& pipes_yaml) const {
  return write_file(sb.dir() + "/ferry.yaml",
                    fmt::format("peers:\n  src: {{ type: postgres, dsn: \"{}\" }}\n"
                                "  dst: {{ type: postgres, dsn: \"{}\" }}\npipes:\n{}",
                                sb.pg_dsn(), dsn(), pipes_yaml));
}

std::pair<Rows, Rows> pg_both_sides(Sandbox& sb, PgDestinationDb& dst, const std::string& table,
                                    const std::vector<std::string>& cols, const std::string& key) {
  std::string list;
  for (const auto& c : cols) list += (list.empty() ? "" : ", ") + fmt::format("CASE WHEN {0} IS NOT NULL THEN format('%s', {0}) END", quote_pg_ident(c));
  std::string sql = fmt::format("SELECT {} FROM {} ORDER BY {}", list, quote_pg_ident(table), key);
  return {all_rows(sb.pg(), sql), dst.rows(sql)};
}

::testing::AssertionResult pg_converges(Sandbox& sb, PgDestinationDb& dst, const std::string& table,
                                        const std::vector<std::string>& cols, const std::string& key,
                                        std::chrono::seconds timeout) {
  std::pair<Rows, Rows> last;
  std::string error;
  bool same = eventually([&] {
    try {
      last = pg_both_sides(sb, dst, table, cols, key);
      error.clear();
      return last.first == last.second;
    } catch (const std::exception& e) {
      error = e.what();
      return false;
    }
  }, static_cast<int>(timeout.count()));
  if (same) return ::testing::AssertionSuccess();
  auto res = ::testing::AssertionFailure();
  res << table << ": source " << last.first.size() << " rows, destination " << last.second.size() << " rows";
  if (!error.empty()) res << " (" << error << ")";
  for (size_t i = 0; i < std::min(last.first.size(), last.second.size()); ++i) {
    if (last.first[i] != last.second[i]) {
      res << "; first difference at row " << i << ":";
      for (size_t j = 0; j < last.first[i].size(); ++j)
        if (last.first[i][j] != last.second[i][j])
          res << " [" << j << "] source '" << last.first[i][j] << "' destination '" << last.second[i][j] << "'";
      break;
    }
  }
  return res;
}

}  // namespace ferry::test
