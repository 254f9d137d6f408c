#pragma once
// Stage 2 of the search: the plant's ends discovered and bound to one search space. The primary
// end's writable knobs (filtered by --knobs/--exclude, --allow-global, read-only and IRQ rules)
// become the optimizer's parameters, named by their ids; a mirror end (the testbed's server)
// binds the same knob under its own interface names, a global end (--allow-global from a
// namespace) the host-wide ones. In retune mode the profile's values are the start of the space,
// and every bound place that does not hold them is listed as drifted.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actuators/knob.hpp"
#include "actuators/profile.hpp"
#include "experiments/search/search.hpp"
#include "experiments/search/search_env.hpp"
#include "experiments/search/search_space.hpp"

namespace wgopt::experiments {

using Values = std::map<std::string, std::string>;

// An end of the plant with the knobs discovered there.
struct Target {
  std::string label;
  act::Host host;
  std::vector<act::KnobPtr> knobs;
  act::Knob* find(const std::string& id) const;
};

// One place a parameter is written to: the target and the knob id there.
struct Binding {
  size_t target;
  std::string id;
};

struct BoundSpace {
  std::vector<Target> targets;                          // the plant's ends, primary first
  std::map<std::string, std::vector<Binding>> bindings;  // parameter (primary knob id) -> places
  std::optional<SearchSpace> space;
  Values baseline;                                      // the start: the host's values (retune: the profile's)
  Values retune_values;                                 // retune: the profile's values, validated
  std::vector<std::string> drifted;                     // retune: "ID (label): NOW -> PROFILE"
  // Mirrored ends that held different values at the start: parameter -> "LABEL: VALUE" of the end
  // that differs from this one. One parameter drives both ends, so no value of it is the hosts'
  // own: every value changes an end (the engine's start, this end's values, changes the other).
  std::map<std::string, std::string> split;
  act::Knob* primary(const std::string& id) const { return targets.front().find(id); }
  // `value` of parameter `id` is what every end held at the start: setting it changes nothing.
  bool unchanged(const std::string& id, const std::string& value) const;
  // The start value of `id` for a change line: "V", or "V (LABEL: W)" when a mirrored end held W.
  std::string start_text(const std::string& id) const;
};

class RemoteEnd;

// Discovers every end's knobs and binds the space; with `remote` (--ssh) the peer's knobs too: each
// local parameter also drives the peer's counterpart when the ends are mirrored, else the peer's
// knobs are parameters "peer:ID" of their own (remote_end.hpp). Throws UsageError when no knob is
// left to search, Error when a retune profile names a knob that cannot be tuned here.
BoundSpace bind_space(const SearchOptions& options, const SearchPlant& plant, const std::map<std::string, RangeOverride>& overrides,
                      const act::Profile* retune_profile, RemoteEnd* remote = nullptr);

}  // namespace wgopt::experiments
