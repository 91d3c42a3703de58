#include "core/log.h"

#include <cstdlib>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace ferry {

void init_logging(bool verbose) {
  auto logger = spdlog::stderr_color_mt("ferry");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  const char* env = std::getenv("FERRY_LOG");
  if (env) spdlog::set_level(spdlog::level::from_str(env));
  else spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
}

}  // namespace ferry
