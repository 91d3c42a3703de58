// The bytes of a file under tests/fixtures (FERRY_FIXTURES_DIR, set by tests/CMakeLists.txt).
#pragma once
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace ferry::test {

// `relative` e.g. "clickhouse/all_types.copy"; a missing file fails the test (and reads as "").
inline std::string fixture_file(const std::string& relative) {
  std::ifstream in(std::string(FERRY_FIXTURES_DIR) + "/" + relative, std::ios::binary);
  EXPECT_TRUE(in.good()) << relative;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ferry::test
