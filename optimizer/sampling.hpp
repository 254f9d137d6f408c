#pragma once
// Randomness and candidate generation shared by the strategies. The generator is our own thin layer
// over std::mt19937_64 (whose output is fixed by the standard) because the std distributions are
// implementation-defined: a seed must give the same suggestions with any standard library.
#include <cstdint>
#include <random>
#include <vector>

#include "optimizer/space.hpp"

namespace wgopt::opt {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : eng_(seed) {}
  double uniform();                  // [0, 1)
  double uniform(double a, double b);
  double normal();                   // standard normal (Box-Muller)
  std::uint64_t below(std::uint64_t n);   // 0 .. n-1
  std::mt19937_64& engine() { return eng_; }

 private:
  std::mt19937_64 eng_;
};

// A uniformly random valid configuration (each parameter uniform on its own scale; conditions
// respected).
Config random_config(const Space& space, Rng& rng);

// n configurations of a Latin hypercube over the parameters (each parameter's range cut into n
// strata, one point per stratum), the most spread-out (maximin distance in the encoded cube) of a
// few random hypercubes.
std::vector<Config> latin_hypercube(const Space& space, int n, Rng& rng);

// The design with each parameter of `start` put back at start's value in round(share * n) of its
// points (a random subset per parameter, drawn independently; conditions re-applied): a random
// balance design, in which every knob's move from the start is separated from the others' moves.
std::vector<Config> anchor_to_start(const Space& space, std::vector<Config> design, const Config& start, double share, Rng& rng);

// Every configuration one discrete step away from c: integer/pow2 one grid level up or down, every
// other categorical choice, a flipped boolean, a mask with one bit flipped. Real parameters are not
// moved (continuous optimisation handles them). Conditions are re-applied (Space::complete).
std::vector<Config> discrete_neighbours(const Space& space, const Config& c);

// Every configuration that is c with one of its parameters back at `start`'s value, for each
// parameter of c that start holds at another value (conditions re-applied, Space::complete): what
// undoing one change of c from start gives.
std::vector<Config> one_change_returned(const Space& space, const Config& c, const Config& start);

// A random nearby configuration: numeric parameters moved by N(0, scale^2) on their unit scale, each
// discrete parameter changed with probability 1/(number of params).
Config perturb(const Space& space, const Config& c, double scale, Rng& rng);

// Position in [0, 1] of params()[i]'s value in c along its own scale (as value_at's inverse);
// 0.5 when absent.
double unit_position(const Space& space, int i, const Config& c);

}  // namespace wgopt::opt
