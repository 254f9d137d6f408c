#include "actuators/knobs_common.hpp"

#include <unistd.h>

#include <charconv>
#include <fmt/format.h>

#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::act {

bool running_as_root() { return ::geteuid() == 0; }

std::string KnobBase::instance() {
  if (d_.device.empty()) return "";
  const auto index = host_.files->read("/sys/class/net/" + d_.device + "/ifindex");
  const std::string text = index ? trim(*index) : "";
  return text.empty() ? "" : "ifindex " + text;
}

int64_t parse_int_in(const std::string& value, const Descriptor& d) {
  const std::string t = trim(value);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size() || v < d.domain.min || v > d.domain.max) {
    throw UsageError(fmt::format("value '{}' for {} is not legal: use an integer in [{}, {}]", value, d.id,
                                 d.domain.min, d.domain.max));
  }
  return v;
}

void widen(Domain& dom, int64_t current) {
  dom.min = std::min(dom.min, current);
  dom.max = std::max(dom.max, current);
}

std::string read_or_throw(const Host& host, const std::string& path, const std::string& id) {
  auto c = host.files->read(path);
  if (!c) throw Error(fmt::format("cannot read {} for {} in {}: it does not exist or is not readable", path, id,
                                  host.files->describe()));
  return trim(*c);
}

CommandResult run_or_throw(const Host& host, const std::vector<std::string>& argv, const std::string& id,
                           const std::string& value) {
  auto r = host.run(argv);
  if (!r.ok()) {
    throw Error(fmt::format("cannot set {} to '{}' in {}: `{}` {}", id, value, host.place.describe(),
                            render_argv(argv), r.brief()));
  }
  return r;
}

Presence file_presence(const Host& host, const std::string& path) {
  Presence p;
  p.present = host.files->exists(path);
  if (!p.present) {
    p.why_not = "no such file " + path;
    return p;
  }
  p.writable = host.files->writable(path);
  if (!p.writable) {
    if (!running_as_root()) p = not_root_presence();
    else if (!host.place.is_host()) p.why_not = "read-only in a child namespace (set it on the host)";
    else p.why_not = "read-only";
  }
  return p;
}

ModuleState kernel_module_state(const Host& host, const std::string& name) {
  auto release = host.files->read("/proc/sys/kernel/osrelease");
  if (!release || trim(*release).empty()) return ModuleState::Absent;
  const std::string dir = "/lib/modules/" + trim(*release) + "/";
  // Lines are paths ("kernel/net/ipv4/tcp_bbr.ko", in modules.dep followed by ':' and its
  // dependencies); the file may be compressed (.ko.xz, .ko.zst).
  auto listed = [&](const std::string& file) {
    auto text = host.files->read(dir + file);
    if (!text) return false;
    for (const auto& line : split_lines(*text)) {
      std::string path = trim(line.substr(0, line.find(':')));
      const std::string base = path.substr(path.rfind('/') + 1);
      if (base == name + ".ko" || base.starts_with(name + ".ko.")) return true;
    }
    return false;
  };
  if (listed("modules.builtin")) return ModuleState::Builtin;
  if (listed("modules.dep")) return ModuleState::Loadable;
  return ModuleState::Absent;
}

int64_t round_pow2(int64_t v) {
  if (v <= 0) return 0;
  int64_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

}  // namespace wgopt::act
