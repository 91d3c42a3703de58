// Injectable time source (LevelDB's Env idea): tests drive schedules and
// backoff without sleeping.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace ferry {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
  virtual void sleep_for(std::chrono::milliseconds d) = 0;

  static Clock& system();
};

// Milliseconds since the epoch, the unit the catalog stores.
int64_t to_epoch_ms(std::chrono::system_clock::time_point t);
// "2026-11-21T10:07:00.123Z"
std::string format_time_utc(int64_t epoch_ms);

}  // namespace ferry
