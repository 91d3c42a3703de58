// Durations as users write them in config: "500ms", "15s", "5m", "1h", "1h30m".
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ferry {

using Millis = std::chrono::milliseconds;

// Returns nullopt when the text is not a duration (empty, no unit, unknown unit, negative).
std::optional<Millis> parse_duration(std::string_view text);
std::string format_duration(Millis d);

}  // namespace ferry
