#pragma once
// Stage 3 of the search: the study file, created with the host facts, the space, the objective,
// the engine's settings and the search's plant and knob selection (or the resumed one, set running
// again), and where the profile goes. In retune mode the facts keep the profile's SKU, and a kernel
// other than the profile's is noted.
//
// Before stage 1, --resume goes through resume_options: the study is checked read-only before
// anything (study file or host) is changed, and `wgopt search --resume S` alone continues with the
// plant and knob selection the study recorded.
#include <string>

#include <nlohmann/json.hpp>

#include "experiments/search/search_plan.hpp"
#include "experiments/search/space_binding.hpp"

namespace wgopt::experiments {

struct OpenedStudy {
  StudyStore store;
  nlohmann::json facts;             // the profile's host facts
  std::string profile_path;
  std::string kernel_was, kernel_now;  // retune: set when the kernel is not the profile's
};

class RemoteEnd;

// With `remote` (--ssh) a new study records the peer's facts too (its host facts' "peer" entry:
// RemoteEnd::facts_json), and a retune notes a peer kernel other than the one the profile's peer
// part was made on (kernel_was/now "peer USER@HOST: RELEASE"). Throws UsageError when the study path
// exists already (resume it or pick another), Error when it cannot be written.
OpenedStudy open_study(const SearchOptions& options, const SearchPlan& plan, const SearchPlant& plant, const BoundSpace& bound,
                       const SearchEnv& env, const RemoteEnd* remote = nullptr);

// The options a search runs with. Without --resume: `given`. With it, first, writing nothing: the
// file is a wgopt study of a schema this wgopt reads, passes PRAGMA integrity_check and has every
// table and column, and is not finished. Then, when `given` names no plant (neither --testbed nor
// --peer), the plant (with --ssh and its options unless given, --peer-interfaces, --per-end), the
// knob selection (--knobs, --exclude, --allow-*, --stop-irqbalance, --space, --interfaces),
// --profile and --sku are the study's (logged). Whatever the plant, the first run's
// --confirm-rounds and --screen hold unless given again (a new --duration drops the recorded
// --screen), and its --one-look, --keep-whole-winner and --no-prune hold; what was taken is logged.
// Throws UsageError naming the study and what to do: damaged (a record value out of the command
// line's range too), finished, or (a study an older wgopt wrote) no recorded plant, or a both-ends
// study without its ssh options.
SearchOptions resume_options(const SearchOptions& given);

// What a new study records of the options (StudyInfo::search), for resume_options.
nlohmann::json search_record(const SearchOptions& o);

}  // namespace wgopt::experiments
