// A fixture for tests against the ClickHouse server alone: a fresh database per
// test (its name has a space and a non-ASCII letter on purpose), a destination
// writing into it, and an admin client; the database is dropped afterwards.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>

#include "connectors/clickhouse/clickhouse_destination.h"
#include "core/ident.h"
#include "core/spec.h"
#include "test_env.h"

namespace ferry::test {

class ClickHouseDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = require_env("FERRY_TEST_CH_URL");
    static std::atomic<int> counter{0};
    database_ = "ferry ch test ü " + std::to_string(getpid()) + "_" + std::to_string(counter++);
    peer_.name = "lake";
    peer_.type = PeerType::ClickHouse;
    peer_.url = url_;
    peer_.database = database_;
    dest_ = std::make_unique<clickhouse::ClickHouseDestination>(peer_);
    clickhouse::HttpOptions admin;
    admin.url = url_;
    admin_ = std::make_unique<clickhouse::HttpClient>(admin);
  }
  void TearDown() override {
    if (!admin_) return;
    try {
      admin_->query("DROP DATABASE IF EXISTS " + quote_backtick_ident(database_));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleanup: " << e.what();
    }
  }
  // `database`.`name`
  std::string table(const std::string& name) const {
    return quote_backtick_ident(database_) + "." + quote_backtick_ident(name);
  }
  std::string ch(const std::string& sql) { return admin_->query(sql); }

  std::string url_;
  std::string database_;
  PeerSpec peer_;
  std::unique_ptr<clickhouse::ClickHouseDestination> dest_;
  std::unique_ptr<clickhouse::HttpClient> admin_;
};

}  // namespace ferry::test
