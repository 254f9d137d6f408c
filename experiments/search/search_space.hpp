#pragma once
// From discovered knobs to the optimizer's Space, and back from a Config to knob values: the one
// translation between actuators/ (canonical text values, knob domains) and optimizer/ (typed
// parameters in a unit cube). The optimizer's parameter names are the knob ids.
//
// How each knob type becomes a parameter:
//   int      integer on [min, max] (log scale when the domain says so), or pow2 when the domain
//            is powers of two (rings, buffers, flow counts); a flow count's 0 (RFS off) is the
//            level below 1, so the search can choose it and return a change to a host at 0
//   triple   (tcp_rmem / tcp_wmem) only the maximum is searched, as pow2; the minimum is kept and
//            the default is capped at the maximum: "min min(default, max) max"
//   mask     mask of nproc bits (RPS)
//   bool     boolean ("on" / "off")
//   enum     categorical of the knob's choices (qdisc, congestion control, and IRQ affinity's
//            placements: spread, one-core, off-rps), with the host's own value first when it is
//            none of them (IRQ affinity "as found": its per-IRQ masks, such as "2 1")
//   service  categorical "active" / "inactive" (irqbalance)
// rps_flow_cnt is active only when the same device's rps_cpus is not 0 (RFS rides on RPS).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actuators/knob.hpp"
#include "optimizer/space.hpp"

namespace wgopt::experiments {

// One searchable knob: its descriptor, its value now (canonical) and what the user allowed.
struct SearchKnob {
  act::Descriptor descriptor;
  std::string current;  // canonical value read at the start (the baseline)
};

// Overrides from a space file: `knobs: {ID: {min: .., max: .., choices: [..]}}`.
struct RangeOverride {
  std::optional<long long> min, max;
  std::vector<std::string> choices;
};

class SearchSpace {
 public:
  // Builds the space. Knobs whose domain leaves nothing to search (min == max, one choice) are
  // dropped and listed in skipped(). Throws UsageError naming an override that does not fit.
  SearchSpace(std::vector<SearchKnob> knobs, int nproc,
              const std::map<std::string, RangeOverride>& overrides = {});

  const opt::Space& space() const { return space_; }
  const std::vector<SearchKnob>& knobs() const { return knobs_; }
  const std::vector<std::string>& skipped() const { return skipped_; }

  // The configuration closest to the host's current values (the optimizer's start).
  opt::Config current_config() const;
  // Canonical knob values for a configuration: {id -> value} for every active parameter.
  std::map<std::string, std::string> to_values(const opt::Config& config) const;
  // The configuration a set of knob values corresponds to (for resuming from stored params and
  // for the baseline). Values that fall outside the space are clamped to its nearest point.
  opt::Config from_values(const std::map<std::string, std::string>& values) const;

  // {"name", "type", domain...} per parameter, for the study file.
  std::string describe_json() const;

 private:
  const SearchKnob* knob(const std::string& id) const;
  opt::Value to_param_value(const opt::Param& p, const SearchKnob& k, const std::string& canonical) const;

  std::vector<SearchKnob> knobs_;
  std::vector<std::string> skipped_;
  opt::Space space_;
  int nproc_;
};

// Does `id` match one of the comma-separated patterns? A pattern matches the whole id or, with
// '*' wildcards, any run of characters ("*/rps_cpus", "net.ipv4.*", "wgopt-wc/*").
bool id_matches(const std::string& id, const std::vector<std::string>& patterns);

// Reads a space override file (YAML `knobs: {ID: {min, max, choices}}`). Throws UsageError naming
// the file and the entry.
std::map<std::string, RangeOverride> load_space_overrides(const std::string& path);

}  // namespace wgopt::experiments
