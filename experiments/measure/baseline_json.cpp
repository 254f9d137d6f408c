// JSON for baseline and diagnose files. The probes' part is probes/json.hpp's layout; the iperf3
// part copies workload/iperf3_result.hpp's field names so a reader can look each number up there.
#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>

#include "common/util.hpp"
#include "experiments/measure/baseline.hpp"
#include "probes/json.hpp"

namespace wgopt::experiments {

using nlohmann::json;

namespace {

template <class T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json place_json(const Place& p) { return p.is_host() ? json("host") : json(p.netns_name()); }

template <class T, class F>
json array_of(const std::vector<T>& v, F f) {
  json a = json::array();
  for (const auto& x : v) a.push_back(f(x));
  return a;
}

json iperf_summary(const workload::Summary& s) {
  return {{"seconds", s.seconds},
          {"received_bps", s.received_bps},
          {"sent_bps", s.sent_bps},
          {"received_bytes", s.received_bytes},
          {"sent_bytes", s.sent_bytes},
          {"retransmits", opt(s.retransmits)},
          {"loss_percent", opt(s.loss_percent)},
          {"lost_packets", opt(s.lost_packets)},
          {"packets", opt(s.packets)},
          {"jitter_ms", opt(s.jitter_ms)},
          {"udp_from_legacy_sum", s.udp_from_legacy_sum},
          {"cpu_host_total", s.cpu_host_total},
          {"cpu_remote_total", s.cpu_remote_total},
          {"sender_congestion", s.sender_congestion}};
}

json interval(const workload::Interval& i) {
  return {{"start", i.start},           {"seconds", i.seconds},           {"bytes", i.bytes},
          {"bits_per_second", i.bits_per_second}, {"omitted", i.omitted}, {"retransmits", opt(i.retransmits)},
          {"packets", opt(i.packets)},  {"lost_packets", opt(i.lost_packets)}, {"jitter_ms", opt(i.jitter_ms)}};
}

}  // namespace

json to_json(const ScenarioRun& r) {
  const auto& w = r.run;
  return {{"scenario", r.scenario.name},
          {"description", r.scenario.description},
          {"iperf3",
           {{"status", workload::status_name(w.status)},
            {"message", w.message},
            {"iperf3_error", w.iperf3_error},
            {"udp", w.udp},
            {"reverse", w.reverse},
            {"parallel", w.parallel},
            {"wall_seconds", w.wall_seconds},
            {"summary", w.summary ? iperf_summary(*w.summary) : json(nullptr)},
            {"intervals", array_of(w.intervals, interval)}}},
          {"probes", {{"summary", json(r.probes.summary)}, {"seconds", json(r.probes.seconds)}}}};
}

json host_info() {
  struct utsname u{};
  ::uname(&u);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return {{"hostname", host},
          {"kernel", u.release},
          {"machine", u.machine},
          {"nproc", ::sysconf(_SC_NPROCESSORS_ONLN)},
          {"boot_id", boot_id()},
          {"time", static_cast<long long>(std::time(nullptr))}};
}

json to_json(const BaselineReport& r) {
  return {{"tool", "wgopt baseline"},
          {"target",
           {{"description", r.target.description},
            {"client", place_json(r.target.client)},
            {"server", r.target.server_address},
            {"port", r.target.port},
            {"watched", array_of(r.target.watch, [](const probes::WatchedInterface& w) { return probes::label(w); })}}},
          {"duration_s", r.duration.count()},
          {"started_at", r.started_at},
          {"wall_seconds", r.wall_seconds},
          {"host", r.host},
          {"facts", json(r.facts)},
          {"scenarios", array_of(r.runs, [](const ScenarioRun& s) { return to_json(s); })},
          {"not_run", array_of(r.not_run, [](const workload::Scenario& s) { return s.name; })}};
}

}  // namespace wgopt::experiments
