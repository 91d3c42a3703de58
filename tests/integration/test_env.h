// Environment of integration tests: the real servers come from scripts/test-servers
// (eval "$(scripts/test-servers start)"). A missing variable FAILS the test with a clear
// message; integration tests never skip silently.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace ferry::test {

// The value of `name`; when unset or empty, records a test failure and throws (which
// ends the test, also from SetUp()).
inline std::string require_env(const char* name) {
  const char* v = std::getenv(name);
  if (v && *v) return v;
  std::string message = std::string(name) +
                        " is not set: integration tests need the servers of scripts/test-servers; run "
                        "eval \"$(scripts/test-servers start)\" first (or scripts/test)";
  ADD_FAILURE() << message;
  throw std::runtime_error(message);
}

}  // namespace ferry::test
