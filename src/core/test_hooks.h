// Hooks for crash-safety and concurrency tests, driven by the environment and
// inert without it (a getenv per call; call sites are per partition or per step):
//  - FERRY_CRASH_AT=<name>: the process kills itself with SIGKILL when it
//    reaches crash_point(<name>), exactly like a kill -9 there;
//  - FERRY_HOLD_AT=<name> and FERRY_HOLD_FILE=<path>: hold_point(<name>) waits
//    while <path> exists, so a test can observe the process at that point.
#pragma once

namespace ferry {

void crash_point(const char* name);
void hold_point(const char* name);

}  // namespace ferry
