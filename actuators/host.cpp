#include "actuators/host.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "actuators/catalog.hpp"
#include "common/error.hpp"

namespace wgopt::act {

Host make_host(const Place& place) {
  Host h;
  h.place = place;
  h.runner = default_runner();
  h.files = files_for(place, h.runner);
  long n = ::sysconf(_SC_NPROCESSORS_CONF);
  h.nproc = n > 0 ? static_cast<int>(n) : 1;
  h.proc_root = "/proc";
  return h;
}

KnobLookup default_knob_lookup() {
  return [](const Place& place, const std::string& id) -> KnobPtr {
    if (!place.is_host() && !RootedFiles("/").exists("/run/netns/" + place.netns_name())) return nullptr;
    try {
      Host host = make_host(place);
      KnobPtr k = find_knob(host, id);
      if (!k->presence().present) return nullptr;
      return k;
    } catch (const UsageError& e) {
      spdlog::debug("knob {} in {} is gone: {}", id, place.describe(), e.what());
      return nullptr;
    }
  };
}

}  // namespace wgopt::act
