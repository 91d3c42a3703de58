#include "core/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ferry {

void crash_point(const char* name) {
  static const char* target = std::getenv("FERRY_CRASH_AT");
  if (!target || std::strcmp(target, name) != 0) return;
  std::fprintf(stderr, "ferry: FERRY_CRASH_AT=%s reached: killing this process\n", name);
  std::fflush(stderr);
  kill(getpid(), SIGKILL);
}

}  // namespace ferry
