#pragma once
// Logging: spdlog to stderr, so stdout stays clean for tables and --json.
#include <string>

namespace wgopt {
// level: trace|debug|info|warn|error|off. Throws UsageError on anything else.
void setup_logging(const std::string& level);
}  // namespace wgopt
