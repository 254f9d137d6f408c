#include "experiments/study/search_outcome.hpp"

#include <array>
#include <utility>

namespace wgopt::experiments {
namespace {

constexpr std::array<std::pair<SearchOutcome, std::string_view>, 9> kNames{{
    {SearchOutcome::Promoted, "promoted"},
    {SearchOutcome::KeptBaseline, "kept-baseline"},
    {SearchOutcome::NoTrials, "no-trials"},
    {SearchOutcome::Interrupted, "interrupted"},
    {SearchOutcome::Holds, "holds"},
    {SearchOutcome::Retuned, "retuned"},
    {SearchOutcome::RolledBack, "rolled-back"},
    {SearchOutcome::Degraded, "degraded"},
    {SearchOutcome::PeerLost, "peer-lost"},
}};

}  // namespace

std::string to_string(SearchOutcome o) {
  for (const auto& [value, name] : kNames) {
    if (value == o) return std::string(name);
  }
  return "unknown";
}

std::optional<SearchOutcome> parse_search_outcome(std::string_view s) {
  for (const auto& [value, name] : kNames) {
    if (name == s) return value;
  }
  return std::nullopt;
}

}  // namespace wgopt::experiments
