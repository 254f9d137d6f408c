#pragma once
// SPACE.yaml, the search-space file of `wgopt optimize` (parsing a string: no file I/O here).
//
//   objective: maximize            # or minimize (default)
//   params:
//     - {name: x1, type: real, min: 0, max: 1}
//     - {name: backlog, type: int, min: 1000, max: 100000, log: true}
//     - {name: mtu, type: int, min: 1280, max: 1440, step: 10, current: 1420}
//     - {name: ring, type: pow2, min: 256, max: 8192}
//     - {name: flows, type: pow2, min: 0, max: 32768}   # 0 (off), then 1, 2, 4, ..., 32768
//     - {name: cc, type: categorical, choices: [cubic, bbr, reno]}
//     - {name: gro, type: bool}
//     - {name: rps, type: mask, bits: 4}
//     - {name: rfs, type: int, min: 0, max: 32768, when: {param: rps, not: 0}}
//     - {name: q, type: categorical, choices: [a, b, c], when: {param: cc, in: [bbr, reno]}}
//
// `current:` (optional, on any entry) is the host's present value; when every active parameter has
// one they form the start configuration (first trial of `bo`, origin of `coordinate`).
// `when:` makes a parameter conditional on an EARLIER one: `in: V | [V, ...]` or `not: V | [V, ...]`.
#include <optional>
#include <string>

#include "optimizer/space.hpp"
#include "optimizer/strategy.hpp"

namespace wgopt::opt {

struct SpaceSpec {
  Space space;
  Direction direction = Direction::minimize;
  std::optional<Config> start;   // from `current:` values, if every active param has one
};

// Parses and validates SPACE.yaml text. Throws wgopt::UsageError with ONE line that names the entry
// ("SPACE.yaml params[2] 'ring': pow2 min 300 is neither 0 nor a power of two") on any problem;
// `source` names the file in that message.
SpaceSpec parse_space_yaml(const std::string& text, const std::string& source = "SPACE.yaml");

}  // namespace wgopt::opt
