// run_sampled, the one way a scenario runs with the probes on: a busy iperf3 server is retried in
// one place only (the client's RunControl), and the caller hears each retry.
#include <catch2/catch.hpp>

#include "common/files.hpp"
#include "experiments/measure/baseline.hpp"
#include "workload/iperf3_client.hpp"

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

namespace {

// iperf3 cannot connect: the answer every scenario would get.
class Refused : public CommandRunner {
 public:
  int iperf3_runs = 0;
  CommandResult run(const Command& cmd) override {
    CommandResult r;
    r.exit_code = 0;
    if (!cmd.argv.empty() && cmd.argv[0] == "iperf3") {
      ++iperf3_runs;
      r.out = read_file(std::string(WGOPT_FIXTURES_DIR) + "/iperf3/refused.json").value_or("");
    }
    return r;
  }
};

}  // namespace

TEST_CASE("a baseline stops at a failure every scenario would repeat, and says it once", "[measure]") {
  auto runner = std::make_shared<Refused>();
  Plant target{.description = "peer 100.64.0.1", .client = Place::host(), .server_address = "100.64.0.1"};
  const BaselineOptions options{.scenarios = {workload::find_scenario("tcp"), workload::find_scenario("udp"),
                                              workload::find_scenario("single")},
                                .duration = 2s};
  const auto report = run_baseline(target, options, runner);
  CHECK(runner->iperf3_runs == 1 + workload::RunControl{}.refused_retries);  // the first scenario's refusal, retried
  REQUIRE(report.runs.size() == 1);
  CHECK(report.runs[0].run.status == workload::RunStatus::connect_failed);
  REQUIRE(report.not_run.size() == 2);
  CHECK_FALSE(report.all_ok());
  const auto problems = baseline_problems(report);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].starts_with("tcp: "));
  CHECK(problems[1] == "not run: udp, single (they would fail the same way)");
  CHECK(to_json(report)["not_run"] == nlohmann::json::array({"udp", "single"}));
}
