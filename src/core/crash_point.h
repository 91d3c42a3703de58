// Test hook for crash-safety tests: with FERRY_CRASH_AT=<name> in the
// environment, the process kills itself with SIGKILL when it reaches the named
// point, exactly like a kill -9 there. Without the variable it costs one
// cached getenv.
#pragma once

namespace ferry {

void crash_point(const char* name);

}  // namespace ferry
