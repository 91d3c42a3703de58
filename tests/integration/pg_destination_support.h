// A second PostgreSQL database on the test server as a ferry destination, and
// comparing tables between the sandbox (source) and it value by value as text.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cdc_support.h"
#include "support.h"

namespace ferry::test {

class PgDestinationDb {
 public:
  explicit PgDestinationDb(const Sandbox& sb);  // database <sandbox>_dst, dropped at the end
  ~PgDestinationDb();
  PeerSpec peer() const;  // peer "dst", type postgres
  std::string dsn() const;
  PgConnection& conn() { return *conn_; }
  std::vector<std::vector<std::string>> rows(const std::string& sql);  // NULL as "\\N"
  std::string value(const std::string& sql);
  // ferry.yaml with peers src (the sandbox) and dst (this database) and `pipes_yaml`.
  std::string write_config(const Sandbox& sb, const std::string& pipes_yaml) const;

 private:
  std::string name_;
  std::unique_ptr<PgConnection> admin_;
  std::unique_ptr<PgConnection> conn_;
};

// Rows of `table` on both sides, each column as its text (format('%s'); NULL stays NULL), ordered by `key`.
std::pair<Rows, Rows> pg_both_sides(Sandbox& sb, PgDestinationDb& dst, const std::string& table,
                                    const std::vector<std::string>& cols, const std::string& key);
// Waits until both sides hold the same rows (value by value).
::testing::AssertionResult pg_converges(Sandbox& sb, PgDestinationDb& dst, const std::string& table,
                                        const std::vector<std::string>& cols, const std::string& key = "id",
                                        std::chrono::seconds timeout = 60s);

}  // namespace ferry::test
