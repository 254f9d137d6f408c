// SPACE.yaml: every type parses; bad entries are rejected with one line naming the entry.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "optimizer/space_yaml.hpp"

using namespace wgopt::opt;

TEST_CASE("SPACE.yaml with every type, a condition and current values", "[space_yaml]") {
  auto spec = parse_space_yaml(R"(
objective: maximize
params:
  - {name: x1, type: real, min: 0, max: 1, current: 0.5}
  - {name: backlog, type: int, min: 1000, max: 100000, log: true, current: 1000}
  - {name: mtu, type: int, min: 1280, max: 1440, step: 10, current: 1420}
  - {name: ring, type: pow2, min: 256, max: 8192, current: 512}
  - {name: cc, type: categorical, choices: [cubic, bbr, reno], current: cubic}
  - {name: gro, type: bool, current: true}
  - {name: rps, type: mask, bits: 4, current: 0}
  - {name: rfs, type: int, min: 0, max: 32768, when: {param: rps, not: 0}}
  - {name: q, type: categorical, choices: [a, b], when: {param: cc, in: [bbr, reno]}}
)");
  CHECK(spec.direction == Direction::maximize);
  const auto& ps = spec.space.params();
  REQUIRE(ps.size() == 9);
  CHECK(ps[1].log);
  CHECK(ps[2].step == 10);
  CHECK(ps[3].type == ParamType::pow2);
  CHECK(ps[4].choices == std::vector<std::string>{"cubic", "bbr", "reno"});
  CHECK(ps[6].bits == 4);
  REQUIRE(ps[7].condition);
  CHECK(ps[7].condition->negate);
  CHECK(ps[7].condition->values == std::vector<Value>{std::int64_t{0}});
  CHECK(ps[8].condition->values == std::vector<Value>{std::string("bbr"), std::string("reno")});
  REQUIRE(spec.start);
  // rfs and q are inactive at the current values (rps = 0, cc = cubic), so they need no current.
  CHECK(spec.start->size() == 7);
  CHECK(std::get<std::int64_t>(spec.start->at("mtu")) == 1420);
  CHECK(std::get<bool>(spec.start->at("gro")));
}

TEST_CASE("a list or map used as a key is a one-line error, not yaml-cpp's (found by fuzz/fuzz_space)", "[space_yaml]") {
  CHECK_THROWS_MATCHES(parse_space_yaml("[objective]: maximize\nparams: [{name: x, type: bool}]\n", "s.yaml"),
                       wgopt::UsageError,
                       Catch::Message("s.yaml: unknown top-level key '(a list or map as a key)': use objective and params"));
  CHECK_THROWS_MATCHES(parse_space_yaml("params:\n  - {name: x, type: bool, {a: 1}: 2}\n", "s.yaml"), wgopt::UsageError,
                       Catch::Message("s.yaml params[0] 'x': unknown key '(a list or map as a key)' (known: name, type, min, "
                                      "max, log, step, choices, bits, current, when)"));
}

TEST_CASE("objective defaults to minimize and current is optional", "[space_yaml]") {
  auto spec = parse_space_yaml("params:\n  - {name: x, type: real, min: -1, max: 1}\n");
  CHECK(spec.direction == Direction::minimize);
  CHECK_FALSE(spec.start);
}

TEST_CASE("bad SPACE.yaml entries are rejected naming the entry", "[space_yaml]") {
  auto error_of = [](const std::string& params) -> std::string {
    try {
      parse_space_yaml("objective: maximize\nparams:\n  - {name: ok, type: bool}\n" + params, "s.yaml");
    } catch (const wgopt::UsageError& e) {
      return e.what();
    }
    return "accepted";
  };
  CHECK(error_of("  - {name: ring, type: pow2, min: 300, max: 8192}") ==
        "s.yaml params[1] 'ring': pow2 min 300 is neither 0 nor a power of two");
  CHECK(error_of("  - {name: x, type: float, min: 0, max: 1}") ==
        "s.yaml params[1] 'x': type 'float' is unknown: use real, int, pow2, categorical, bool or mask");
  CHECK(error_of("  - {name: x, type: real, min: 0}") == "s.yaml params[1] 'x': type real needs 'max'");
  CHECK(error_of("  - {name: x, type: real, min: zero, max: 1}") ==
        "s.yaml params[1] 'x': 'min' must be a number, not 'zero'");
  CHECK(error_of("  - {name: x, type: real, min: 0, max: 1, steps: 3}") ==
        "s.yaml params[1] 'x': unknown key 'steps' (known: name, type, min, max, log, step, choices, bits, current, when)");
  CHECK(error_of("  - {name: m, type: int, min: 0, max: 10, step: 2.5}") == "s.yaml params[1] 'm': 'step' must be an integer");
  CHECK(error_of("  - {name: cc, type: categorical, choices: bbr}") ==
        "s.yaml params[1] 'cc': 'choices' must be a list such as [cubic, bbr]");
  CHECK(error_of("  - {name: rps, type: mask, bits: 99}") == "s.yaml params[1] 'rps': mask bits 99 must be 1 .. 62");
  CHECK(error_of("  - {name: ok, type: real, min: 0, max: 1}") == "s.yaml params[1] 'ok': param 'ok' is defined twice");
  CHECK(error_of("  - {name: rfs, type: int, min: 0, max: 9, when: {param: rps, not: 0}}") ==
        "s.yaml params[1] 'rfs': 'when' refers to 'rps' which is not a parameter listed before this one");
  CHECK(error_of("  - {type: bool}") == "s.yaml params[1]: needs a 'name'");
  CHECK(error_of("  - {name: x, type: real, min: 0, max: 1, current: 2}") ==
        "s.yaml: 'current' is given for some parameters only (config lacks param 'ok'): give it for all or none");

  CHECK_THROWS_WITH(parse_space_yaml("objective: biggest\nparams: [{name: x, type: bool}]", "s.yaml"),
                    "s.yaml: objective 'biggest' is unknown: use maximize or minimize");
  CHECK_THROWS_WITH(parse_space_yaml("objective: maximize\n", "s.yaml"),
                    "s.yaml: 'params' must be a non-empty list of parameters");
  CHECK_THROWS_WITH(parse_space_yaml("params: [{name: x, type: bool}\n", "s.yaml"), Catch::StartsWith("s.yaml: not valid YAML"));
}

// Found by an exploratory test: yaml-cpp keeps a key's first value and drops a second document, so
// `objective: maximize` then `objective: minimize` ran as maximize, exit 0.
TEST_CASE("a key given twice or a second document is refused, as in a profile", "[space_yaml]") {
  const std::string params = "params:\n  - {name: x, type: real, min: 0, max: 1}\n";
  CHECK_THROWS_WITH(parse_space_yaml("objective: maximize\nobjective: minimize\n" + params, "s.yaml"),
                    Catch::Contains("s.yaml: 'objective' is given twice"));
  CHECK_THROWS_WITH(parse_space_yaml("objective: maximize\n" + params + "---\nobjective: minimize\n", "s.yaml"),
                    Catch::Contains("second YAML document"));
  CHECK_THROWS_WITH(parse_space_yaml("params:\n  - {name: x, type: real, min: 0, max: 1, max: 2}\n", "s.yaml"),
                    Catch::Contains("'max' is given twice"));
  CHECK_NOTHROW(parse_space_yaml("---\nobjective: maximize\n" + params + "...\n", "s.yaml"));  // one document, marked
}
