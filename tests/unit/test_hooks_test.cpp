// TestHooks (core/test_hooks.h): read from an environment, inert unless asked.
#include "core/test_hooks.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <gtest/gtest.h>

namespace ferry {
namespace {

TestHooks from(const std::map<std::string, std::string>& env) {
  return TestHooks::from_environment([&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

#ifndef FERRY_TEST_HOOKS
// A build without the option (Release) ignores the variables.
TEST(TestHooks, ReleaseBuildIgnoresTheEnvironment) {
  TestHooks h = from({{"FERRY_CRASH_AT", "load-partition-done"}, {"FERRY_HOLD_AT", "x"}, {"FERRY_HOLD_FILE", "/tmp/h"}});
  EXPECT_FALSE(h.any());
  h.crash_at = "p";
  h.crash_point("p");  // does not kill
}
#else

TEST(TestHooks, ReadsTheThreeVariables) {
  TestHooks h = from({{"FERRY_CRASH_AT", "load-partition-done"},
                      {"FERRY_HOLD_AT", "resync-carried"},
                      {"FERRY_HOLD_FILE", "/tmp/hold"},
                      {"FERRY_OTHER", "x"}});
  EXPECT_EQ(h.crash_at, "load-partition-done");
  EXPECT_EQ(h.hold_at, "resync-carried");
  EXPECT_EQ(h.hold_file, "/tmp/hold");
  EXPECT_TRUE(h.any());
}

TEST(TestHooks, InertWithoutVariablesOrWithAHoldPointButNoFile) {
  EXPECT_FALSE(from({}).any());
  EXPECT_FALSE(from({{"FERRY_CRASH_AT", ""}}).any());  // empty counts as unset
  EXPECT_FALSE(from({{"FERRY_HOLD_AT", "load-partition-done"}}).any());
  EXPECT_TRUE(from({{"FERRY_CRASH_AT", "stale-rows-deleted"}}).any());
}

TEST(TestHooks, OtherPointsPassAndHoldWaitsWhileTheFileExists) {
  namespace fs = std::filesystem;
  fs::path file = fs::temp_directory_path() / ("ferry_hold_" + std::to_string(getpid()));
  std::ofstream(file).put('x');
  TestHooks h;
  h.crash_at = "somewhere-else";
  h.hold_at = "here";
  h.hold_file = file.string();
  h.crash_point("here");  // not its point: returns
  h.hold_point("elsewhere");
  auto t0 = std::chrono::steady_clock::now();
  std::thread remover([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    fs::remove(file);
  });
  h.hold_point("here");
  remover.join();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
}

TEST(TestHooks, CrashPointKillsTheProcess) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    TestHooks h;
    h.crash_at = "here";
    h.crash_point("here");
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

#endif

}  // namespace
}  // namespace ferry
