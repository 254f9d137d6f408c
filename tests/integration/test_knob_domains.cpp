// Discovery against the real kernel (issue 14, item 11): in a child namespace "wgtdom", `wgopt
// knobs` lists only what `set` can write there (net.core.{r,w}mem_{max,default} are 0444 in a
// child namespace), and every sysctl's advertised domain is what this kernel accepts: both ends of
// each domain are written and read back (in the namespace for per-namespace sysctls, on the host
// for global ones) and the original put back. Needs root; hold /tmp/wgopt-live.lock (global sysctls).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <string>

#include "actuators/catalog.hpp"
#include "actuators/host.hpp"
#include "actuators/knobs_common.hpp"
#include "cli_helpers.hpp"
#include "common/exec.hpp"
#include "common/util.hpp"

using namespace wgopt;
using namespace wgopt::itest;

namespace {

const std::string kNetns = "wgtdom";

// The domain's two ends as values of the knob (a triple: "lo lo lo" and "hi hi hi").
std::vector<std::string> domain_ends(const act::Descriptor& d) {
  auto v = [&](long long x) {
    return d.type == act::ValueType::Triple ? fmt::format("{} {} {}", x, x, x) : std::to_string(x);
  };
  return {v(d.domain.min), v(d.domain.max)};
}

}  // namespace

TEST_CASE("knobs --netns lists the buffer maxima as read-only, and set refuses them before writing",
          "[knobs][root][faults]") {
  need_root();
  NamedNetns ns(kNetns);
  StateDir state;
  auto r = run_wgopt(state.path, {"knobs", "--netns", kNetns, "--json"});
  INFO(r.err);
  REQUIRE(r.ok());
  auto knobs = nlohmann::json::parse(r.out)["knobs"];
  int checked = 0;
  for (const auto& k : knobs) {
    const std::string id = k["id"];
    if (id != "net.core.rmem_max" && id != "net.core.wmem_max" && id != "net.core.rmem_default" &&
        id != "net.core.wmem_default")
      continue;
    INFO(id);
    CHECK(k["present"] == true);
    CHECK(k["writable"] == false);
    CHECK_THAT(k["why_not"].get<std::string>(), Catch::Contains("read-only in a child namespace"));
    ++checked;
  }
  CHECK(checked == 4);

  const std::string before = in_ns(kNetns, {"cat", "/proc/sys/net/core/rmem_max"});
  auto set = run_wgopt(state.path, {"set", "--netns", kNetns, "net.core.rmem_max=8388608"});
  INFO(set.out << set.err);
  CHECK(set.exit_code == 2);
  CHECK_THAT(set.err, Catch::Contains("net.core.rmem_max is not writable") && Catch::Contains("nothing was changed"));
  CHECK_THAT(set.err, !Catch::Contains("Permission denied"));
  CHECK(in_ns(kNetns, {"cat", "/proc/sys/net/core/rmem_max"}) == before);
}

TEST_CASE("every sysctl's domain ends are accepted by this kernel", "[knobs][root][faults]") {
  need_root();
  NamedNetns ns(kNetns);
  int written = 0;
  for (const Place& place : {Place::netns(kNetns), Place::host()}) {
    act::Host host = act::make_host(place);
    for (const auto& name : act::sysctl_names()) {
      auto k = act::find_knob(host, name);
      const auto p = k->presence();
      if (!p.present || !p.writable) continue;
      const auto& d = k->descriptor();
      // A global sysctl is written once, on the host; a per-namespace one in the namespace only.
      if (place.is_host() && d.scope != act::Scope::Global) continue;
      if (d.type != act::ValueType::Int && d.type != act::ValueType::Triple) continue;
      const std::string original = k->read();
      for (const auto& end : domain_ends(d)) {
        INFO(place.describe() << ": " << name << " = '" << end << "' (domain " << d.domain.min << ".." << d.domain.max
                              << ", was '" << original << "')");
        std::string error;
        try {
          k->apply(k->validate(end));
          CHECK(k->equal(k->read(), end));
        } catch (const std::exception& e) {
          error = e.what();
        }
        CHECK(error.empty());
        ++written;
      }
      k->apply(k->validate(original));
      REQUIRE(k->equal(k->read(), original));
    }
  }
  std::printf("sysctl domain ends written and read back: %d\n", written);
  CHECK(written >= 12);
}
