#include "core/test_hooks.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace ferry {

#ifdef FERRY_TEST_HOOKS

TestHooks TestHooks::from_environment(const std::function<const char*(const char*)>& lookup) {
  auto value = [&](const char* name) {
    const char* v = lookup(name);
    return std::string(v ? v : "");
  };
  TestHooks hooks;
  hooks.crash_at = value("FERRY_CRASH_AT");
  hooks.hold_at = value("FERRY_HOLD_AT");
  hooks.hold_file = value("FERRY_HOLD_FILE");
  return hooks;
}

TestHooks TestHooks::from_environment() {
  return from_environment([](const char* name) { return std::getenv(name); });
}

void TestHooks::crash_point(std::string_view name) const {
  if (crash_at.empty() || crash_at != name) return;
  std::fprintf(stderr, "ferry: FERRY_CRASH_AT=%s reached: killing this process\n", crash_at.c_str());
  std::fflush(stderr);
  kill(getpid(), SIGKILL);
}

void TestHooks::hold_point(std::string_view name) const {
  if (hold_at.empty() || hold_file.empty() || hold_at != name) return;
  while (access(hold_file.c_str(), F_OK) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

#else  // built without test hooks (Release): nothing is read, no point fires

TestHooks TestHooks::from_environment(const std::function<const char*(const char*)>&) { return {}; }
TestHooks TestHooks::from_environment() { return {}; }
void TestHooks::crash_point(std::string_view) const {}
void TestHooks::hold_point(std::string_view) const {}

#endif

}  // namespace ferry
