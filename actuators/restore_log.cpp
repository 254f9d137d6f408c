#include "actuators/restore_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actuators/knob_json.hpp"
#include "common/files.hpp"
#include "common/util.hpp"

namespace wgopt::act {

namespace {
constexpr off_t kMaxBytes = 256 * 1024;

std::string path_in(const std::string& state_dir) { return state_dir + "/restores.jsonl"; }

}  // namespace

void trim_log(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || st.st_size <= kMaxBytes) return;
  auto text = read_file(path);
  if (!text) return;
  auto lines = split_lines(*text);
  std::string kept;
  for (size_t i = lines.size() / 2; i < lines.size(); ++i) kept += lines[i] + "\n";
  write_file_atomic(path, kept, 0600);
}

long long unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void append_restore_record(const std::string& state_dir, const RestoreRecord& record) {
  const std::string path = path_in(state_dir);
  try {
    trim_log(path);
    const std::string line = nlohmann::json{{"at_ms", record.at_ms},
                                            {"pid", record.pid},
                                            {"by", record.by},
                                            {"why", record.why},
                                            {"report", record.report}}
                                 .dump() +
                             "\n";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error(std::strerror(errno));
    const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    const int e = errno;
    ::close(fd);
    if (!ok) throw std::runtime_error(std::strerror(e));
  } catch (const std::exception& e) {
    spdlog::warn("cannot record the restore in {}: {}", path, e.what());
  }
}

std::vector<RestoreRecord> read_restore_records(const std::string& state_dir, long long since_ms) {
  std::vector<RestoreRecord> out;
  auto text = read_file(path_in(state_dir));
  if (!text) return out;
  for (const auto& line : split_lines(*text)) {
    try {
      auto j = nlohmann::json::parse(line);
      RestoreRecord r;
      j.at("at_ms").get_to(r.at_ms);
      if (r.at_ms < since_ms) continue;
      j.at("pid").get_to(r.pid);
      j.at("by").get_to(r.by);
      j.at("why").get_to(r.why);
      j.at("report").get_to(r.report);
      out.push_back(std::move(r));
    } catch (const std::exception&) {
      // a torn last line from a crash mid-append, or damage: skip it
    }
  }
  return out;
}

}  // namespace wgopt::act
