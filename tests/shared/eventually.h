// Waiting for a condition in tests (unit and integration) instead of sleeping a fixed time.
#pragma once
#include <chrono>
#include <functional>
#include <thread>

namespace ferry::test {

// Polls `done` every `poll` for up to `seconds`: true once it holds, false when it still
// does not after that time (`done` is asked at least once).
inline bool eventually(const std::function<bool()>& done, int seconds = 60,
                       std::chrono::milliseconds poll = std::chrono::milliseconds(50)) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}

}  // namespace ferry::test
