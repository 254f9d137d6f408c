#pragma once
// Logging: spdlog to stderr, so stdout stays clean for tables and --json.
#include <memory>
#include <string>

namespace spdlog::sinks {
class sink;
}

namespace wgopt {

// level: trace|debug|info|warn|error|off. Throws UsageError on anything else.
void setup_logging(const std::string& level);

// A line a command redraws in place on the terminal (the search's progress line). While one is
// registered, every log message first clears it and then redraws it, so a warning never lands in
// the middle of it. clear() and redraw() are called from whichever thread logs; they must not log.
class LiveLine {
 public:
  virtual ~LiveLine() = default;
  virtual void clear() = 0;
  virtual void redraw() = 0;
};
// Registers `line` (nullptr: none). The caller unregisters it before destroying it.
void set_live_line(LiveLine* line);

// The sink setup_logging uses: `inner` (stderr) with the live line cleared before each message and
// redrawn after. Exposed so a test can put it in front of a stream.
std::shared_ptr<spdlog::sinks::sink> live_line_sink(std::shared_ptr<spdlog::sinks::sink> inner);

}  // namespace wgopt
