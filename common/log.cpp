#include "common/log.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

#include "common/error.hpp"

namespace wgopt {

namespace {

std::atomic<LiveLine*> g_live_line{nullptr};

class LiveLineSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit LiveLineSink(std::shared_ptr<spdlog::sinks::sink> inner) : inner_(std::move(inner)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    LiveLine* live = g_live_line.load();
    if (live) live->clear();
    inner_->log(msg);
    inner_->flush();
    if (live) live->redraw();
  }
  void flush_() override { inner_->flush(); }
  void set_pattern_(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter_(std::unique_ptr<spdlog::formatter> f) override { inner_->set_formatter(std::move(f)); }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
};

}  // namespace

void set_live_line(LiveLine* line) { g_live_line.store(line); }

std::shared_ptr<spdlog::sinks::sink> live_line_sink(std::shared_ptr<spdlog::sinks::sink> inner) {
  return std::make_shared<LiveLineSink>(std::move(inner));
}

void setup_logging(const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    throw UsageError(fmt::format("log level '{}' is not known: use trace, debug, info, warn, error or off", level));
  }
  auto logger = std::make_shared<spdlog::logger>("wgopt", live_line_sink(std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));
  logger->set_pattern("%^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
}

}  // namespace wgopt
