#include "common/log.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/error.hpp"

namespace wgopt {

void setup_logging(const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    throw UsageError(fmt::format("log level '{}' is not known: use trace, debug, info, warn, error or off", level));
  }
  auto logger = spdlog::stderr_color_mt("wgopt");
  logger->set_pattern("%^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
}

}  // namespace wgopt
