// run_sampled, the one way a scenario runs with the probes on: a busy iperf3 server is retried in
// one place only (the client's RunControl), and the caller hears each retry.
#include <catch2/catch.hpp>

#include "common/files.hpp"
#include "experiments/measure/baseline.hpp"

using namespace wgopt;
using namespace wgopt::experiments;
using namespace std::chrono_literals;

namespace {

class AlwaysBusy : public CommandRunner {
 public:
  int iperf3_runs = 0;
  CommandResult run(const Command& cmd) override {
    CommandResult r;
    r.exit_code = 0;
    if (!cmd.argv.empty() && cmd.argv[0] == "iperf3") {
      ++iperf3_runs;
      r.out = read_file(std::string(WGOPT_FIXTURES_DIR) + "/iperf3/busy.json").value_or("");
    }
    return r;
  }
};

}  // namespace

TEST_CASE("a busy server is retried by the client alone, and the caller hears every retry", "[measure]") {
  AlwaysBusy runner;
  int retries_heard = 0;
  SampledRunHooks hooks;
  hooks.on_retry = [&] { ++retries_heard; };
  const workload::ClientOptions opts{.server = "100.64.0.1", .port = 5201, .duration = 2s};
  auto run = run_sampled(Place::host(), opts, {}, workload::find_scenario("single"), runner, hooks);
  CHECK(run.run.status == workload::RunStatus::server_busy);
  // RunControl's 5 retries, 1 s apart: 6 attempts. Two layers of retries made it 12.
  CHECK(runner.iperf3_runs == 6);
  CHECK(retries_heard == 5);
}
