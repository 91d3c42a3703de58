#include "core/test_hooks.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace ferry {

void crash_point(const char* name) {
  static const char* target = std::getenv("FERRY_CRASH_AT");
  if (!target || std::strcmp(target, name) != 0) return;
  std::fprintf(stderr, "ferry: FERRY_CRASH_AT=%s reached: killing this process\n", name);
  std::fflush(stderr);
  kill(getpid(), SIGKILL);
}

void hold_point(const char* name) {
  // Read at every call, so that a test can set it before starting a runner in-process.
  const char* target = std::getenv("FERRY_HOLD_AT");
  const char* file = std::getenv("FERRY_HOLD_FILE");
  if (!target || !file || std::strcmp(target, name) != 0) return;
  while (access(file, F_OK) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

}  // namespace ferry
