#pragma once
// `bench_optimizer --self-test` (registered in CTest as bench_problems): checks that every problem's
// stated optimum is its optimum, so a regret table never rests on a wrong f*.
//   - Branin at its three minimisers and Hartmann6 at its minimiser give f* (1e-5);
//   - mixed Hartmann6: f* and its argmin by enumerating the 2,048 discrete combinations, each with
//     its two reals minimised (41 x 41 grid, then compass search);
//   - wg_sim: f*, argmin and counts by enumerating all configurations; MTU 1430 fails;
//   - the WireGuard-shaped hosts (wg_hosts.hpp): f* by enumerate_host, the optimum on the MTU cliff
//     (one step more fails), the start poor but working, and on 3,000 random configurations the two
//     claims the enumeration rests on (goodput rises with the MTU; which ordinary CPU of a node is in
//     the mask does not matter);
//   - every problem's space validates, and its start configuration (if any) is valid in it.
// Also `--reference-points`: fixed configurations and their values as JSON lines, which
// bench/optuna/run_optuna.py --check compares with the Python definitions.
#include <ostream>

namespace wgopt::bench {

// Writes one line per check ("ok ..." / "FAIL ..."); returns the number of failed checks.
int self_test(std::ostream& out);

// One JSON line per reference point: {"problem": ..., "params": {...}, "value": v | null}.
void print_reference_points(std::ostream& out);

}  // namespace wgopt::bench
