// iperf3 -J output (workload/iperf3_result.cpp): every measurement wgopt makes goes through it.
// Invariants beyond "no crash, no sanitizer report":
//   - parse_iperf3_json never throws (its contract: the outcome is in status and message);
//   - a summary exactly when the status is ok; an empty message exactly when ok;
//   - the message is one line (it is printed as the error line of the CLI);
//   - series_bps() has one entry per non-omitted interval.
#include "fuzz/check.hpp"
#include "workload/iperf3_result.hpp"

using namespace wgopt;

namespace {
constexpr const char* kTarget = "iperf3";

void check(std::string_view json) {
  workload::RunResult r;
  try {
    r = workload::parse_iperf3_json(json, "fuzz:5201");
  } catch (const std::exception& e) {
    fuzz::broken(kTarget, "parse_iperf3_json threw " + fuzz::type_name(e) + ": " + e.what());
  }
  if (r.ok() != r.summary.has_value()) fuzz::broken(kTarget, std::string("status ") + workload::status_name(r.status) + " but summary " + (r.summary ? "present" : "absent"));
  if (r.ok() != r.message.empty()) fuzz::broken(kTarget, std::string("status ") + workload::status_name(r.status) + " with message '" + fuzz::shown(r.message) + "'");
  if (r.message.find_first_of("\n\r") != std::string::npos) fuzz::broken(kTarget, "message is not one line: " + fuzz::shown(r.message));
  size_t kept = 0;
  for (const auto& i : r.intervals) kept += i.omitted ? 0 : 1;
  if (r.series_bps().size() != kept) fuzz::broken(kTarget, "series_bps size differs from the non-omitted intervals");
  if (r.raw_json != json) fuzz::broken(kTarget, "raw_json is not the input");
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
