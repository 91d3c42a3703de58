// A fresh directory under the system's temp directory for one test (unit and integration).
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace ferry::test {

// Made by the constructor (mkdtemp, `prefix` + random letters), removed by the destructor;
// with `keep_on_failure` a failed test leaves it in place and prints where it is.
struct TempDir {
  explicit TempDir(const std::string& prefix = "ferry_test", bool keep_on_failure = false)
      : keep_on_failure_(keep_on_failure) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "_XXXXXX")).string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() {
    if (keep_on_failure_ && ::testing::Test::HasFailure()) {
      std::printf("[ kept ] test directory kept for inspection in %s\n", path.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path / name).string(); }

  std::filesystem::path path;

 private:
  bool keep_on_failure_;
};

}  // namespace ferry::test
