// Hooks for crash-safety and concurrency tests. The `ferry` binary reads them
// once at start from the environment (TestHooks::from_environment) and hands
// them to its runners (RunnerOptions::hooks); in-process tests set them on
// RunnerOptions directly. Nothing reads the environment afterwards, so tests
// may setenv() while runner threads work.
//  - FERRY_CRASH_AT=<name>: the process kills itself with SIGKILL when it
//    reaches crash_point(<name>), exactly like a kill -9 there;
//  - FERRY_HOLD_AT=<name> and FERRY_HOLD_FILE=<path>: hold_point(<name>) waits
//    while <path> exists, so a test can observe the process at that point.
//
// Compiled only with FERRY_TEST_HOOKS (CMake option, off in Release builds); without
// it from_environment() returns no hooks and the points do nothing. With it and no
// variable set, a call site costs one null check (per partition or step, never per row).
//
// Thread safety: const methods only; one TestHooks may be shared by any number
// of threads. hold_point() blocks its caller, polling every 20 ms.
#pragma once
#include <functional>
#include <string>
#include <string_view>

namespace ferry {

struct TestHooks {
  std::string crash_at;   // FERRY_CRASH_AT; empty: no crash point
  std::string hold_at;    // FERRY_HOLD_AT; inert without hold_file
  std::string hold_file;  // FERRY_HOLD_FILE

  // The hooks the variables above ask for; `lookup` returns a variable's value
  // or null when it is not set (an empty value counts as not set).
  static TestHooks from_environment(const std::function<const char*(const char*)>& lookup);
  // From the process environment. Call before starting threads (getenv).
  static TestHooks from_environment();

  // Whether any hook would ever fire.
  bool any() const { return !crash_at.empty() || (!hold_at.empty() && !hold_file.empty()); }

  // SIGKILLs this process when `name` is crash_at (after a line on stderr).
  void crash_point(std::string_view name) const;
  // Waits while hold_file exists when `name` is hold_at.
  void hold_point(std::string_view name) const;
};

}  // namespace ferry
