// Logging goes through spdlog; this header only keeps the include light.
#pragma once
#include <spdlog/spdlog.h>

namespace ferry {
// Sets level from FERRY_LOG (trace|debug|info|warn|error), default info, to stderr.
void init_logging(bool verbose = false);
}  // namespace ferry
