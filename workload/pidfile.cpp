#include "workload/pidfile.hpp"

#include <cctype>

#include "common/files.hpp"
#include "common/util.hpp"

namespace wgopt::workload {

bool process_alive(int pid) {
  if (pid <= 0) return false;
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  // Field 3, after the parenthesised comm (which may contain spaces): Z = zombie, X = dead.
  auto close = stat->rfind(')');
  if (close == std::string::npos || close + 2 >= stat->size()) return false;
  const char state = (*stat)[close + 2];
  return state != 'Z' && state != 'X';
}

int read_pidfile_of(const std::string& path, const std::string& comm, const std::string& argv_entry) {
  auto text = read_file(path);
  if (!text) return 0;
  long pid = 0;
  size_t digits = 0;
  for (char c : *text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) break;
    pid = pid * 10 + (c - '0');
    if (++digits > 9) return 0;
  }
  if (digits == 0 || pid <= 1) return 0;
  const std::string proc = "/proc/" + std::to_string(pid);
  auto actual_comm = read_file(proc + "/comm");
  if (!actual_comm || trim(*actual_comm) != comm) return 0;
  auto cmdline = read_file(proc + "/cmdline");
  if (!cmdline) return 0;
  bool found = false;
  for (const auto& arg : split(*cmdline, '\0')) found = found || arg == argv_entry;
  if (!found || !process_alive(static_cast<int>(pid))) return 0;
  return static_cast<int>(pid);
}

}  // namespace wgopt::workload
