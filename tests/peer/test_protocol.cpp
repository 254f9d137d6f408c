// The peer protocol's framing and envelope (experiments/peer/protocol.hpp): partial lines, bounded
// line length, malformed requests answered by exactly one error reply, never a crash.
#include <catch2/catch.hpp>
#include <string>

#include "experiments/peer/agent.hpp"
#include "experiments/peer/ops.hpp"
#include "experiments/peer/protocol.hpp"

using namespace wgopt::peer;

TEST_CASE("framer: lines split across reads come out whole, in order", "[peer][protocol]") {
  LineFramer f(64);
  CHECK(f.feed("{\"a\"").empty());
  CHECK(f.has_partial());
  auto lines = f.feed(":1}\n{\"b\":2}\r\n{\"c\"");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].text == "{\"a\":1}");
  CHECK(lines[1].text == "{\"b\":2}");  // a trailing CR is dropped
  CHECK(f.has_partial());
  lines = f.feed(":3}\n");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].text == "{\"c\":3}");
  CHECK_FALSE(f.has_partial());
  CHECK(f.feed("\n").at(0).text.empty());  // an empty line is a line
}

TEST_CASE("framer: an oversized line is dropped as it streams and reported once", "[peer][protocol]") {
  LineFramer f(10);
  CHECK(f.feed("0123456789").empty());  // exactly the limit: still buffered
  CHECK(f.feed("ABC").empty());         // over: dropped, the buffer does not grow
  CHECK(f.feed(std::string(100000, 'x')).empty());
  auto lines = f.feed("tail\nok\n");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].oversized);
  CHECK(lines[0].text.empty());
  CHECK_FALSE(lines[1].oversized);
  CHECK(lines[1].text == "ok");  // the stream resynchronises at the next newline
}

TEST_CASE("parse_request: the envelope is checked, never throws", "[peer][protocol]") {
  auto ok = parse_request(R"({"id": 3, "op": "ping"})");
  REQUIRE(ok);
  CHECK(ok->id == 3);
  CHECK(ok->op == "ping");
  CHECK(ok->args.is_object());

  struct Bad {
    std::string line;
    long long id;
    std::string mentions;
  };
  for (const auto& b : {Bad{"not json", 0, "not JSON"},
                        Bad{"[1,2]", 0, "not a JSON object"},
                        Bad{R"({"op":"ping"})", 0, "id"},
                        Bad{R"({"id":-4,"op":"ping"})", 0, "id"},
                        Bad{R"({"id":1.5,"op":"ping"})", 0, "id"},
                        Bad{R"({"id":"7","op":"ping"})", 0, "id"},
                        Bad{R"({"id":7})", 7, "op"},
                        Bad{R"({"id":7,"op":"RM -rf"})", 7, "op"},
                        Bad{R"({"id":7,"op":"ping","args":[1]})", 7, "args"},
                        Bad{std::string("{\"id\":1,\"op\":\"p\xff\"}"), 0, "JSON"},
                        Bad{"", 0, "JSON"}}) {
    INFO(b.line);
    auto r = parse_request(b.line);
    REQUIRE_FALSE(r);
    CHECK(r.error().id == b.id);
    CHECK_THAT(r.error().message, Catch::Contains(b.mentions));
  }
}

TEST_CASE("replies round-trip, and a reply with bad UTF-8 in a message is still one valid line", "[peer][protocol]") {
  Reply ok{.id = 9, .ok = true, .result = {{"x", 1}}};
  auto back = parse_reply(encode_reply(ok));
  REQUIRE(back);
  CHECK(back->ok);
  CHECK(back->result.at("x") == 1);

  auto err = error_reply(4, ErrorKind::Usage, "bad value \xff here");
  const std::string line = encode_reply(err);
  CHECK(line.find('\n') == std::string::npos);
  auto e = parse_reply(line);
  REQUIRE(e);
  CHECK_FALSE(e->ok);
  CHECK(e->kind == ErrorKind::Usage);
  CHECK_THAT(e->message, Catch::StartsWith("bad value"));

  CHECK_FALSE(parse_reply("hello from .bashrc"));
  CHECK_FALSE(parse_reply(R"({"id":1,"ok":true})"));
  CHECK_FALSE(parse_reply(R"({"id":1,"ok":false,"error":{"kind":"usage"}})"));
}

namespace {
// An agent that never touches the host: these requests are rejected before any op runs.
Agent quiet_agent() { return Agent({.state_dir = "/nonexistent/wgopt-test", .run_dir = "/nonexistent", .wgopt_exe = "/bin/false", .wgopt_version = "test"}); }

nlohmann::json reply_of(Agent& a, const std::string& line) {
  const std::string out = a.handle_line(line);
  REQUIRE(out.find('\n') == std::string::npos);
  return nlohmann::json::parse(out);
}
}  // namespace

TEST_CASE("agent: each malformed request gets exactly one error reply, and the agent goes on", "[peer][protocol]") {
  Agent a = quiet_agent();
  struct Case {
    std::string line;
    std::string kind;
    long long id;
  };
  for (const auto& c : {Case{"garbage", "protocol", 0},
                        Case{"{\"id\":", "protocol", 0},
                        Case{R"({"id":2,"op":"no_such_op"})", "protocol", 2},
                        Case{R"({"id":3,"op":"ping","args":{"x":1}})", "usage", 3},
                        Case{R"({"id":4,"op":"read","args":{"ids":"net.core.rmem_max"}})", "usage", 4},
                        Case{R"({"id":5,"op":"read","args":{"ids":["../../etc/passwd"]}})", "usage", 5},
                        Case{R"({"id":6,"op":"discover","args":{"interfaces":["eth0;rm"]}})", "usage", 6},
                        Case{R"({"id":7,"op":"apply","args":{"changes":[{"id":"net.core.rmem_max"}]}})", "usage", 7},
                        Case{R"({"id":8,"op":"apply","args":{"changes":[],"lease_ms":5}})", "usage", 8},
                        Case{R"({"id":9,"op":"keep"})", "usage", 9},
                        Case{R"({"id":10,"op":"rollback"})", "usage", 10},
                        Case{R"({"id":11,"op":"probe_stop"})", "usage", 11},
                        Case{R"({"id":12,"op":"iperf3_ensure","args":{"bind_address":"not-an-ip"}})", "usage", 12},
                        Case{R"({"id":13,"op":"hello","args":{"protocol":999}})", "version", 13},
                        Case{R"({"id":14,"op":"hello"})", "version", 14}}) {
    INFO(c.line);
    auto j = reply_of(a, c.line);
    CHECK(j.at("ok") == false);
    CHECK(j.at("id") == c.id);
    CHECK(j.at("error").at("kind") == c.kind);
    CHECK_FALSE(j.at("error").at("message").get<std::string>().empty());
  }
  // Still serving.
  auto j = reply_of(a, R"({"id":20,"op":"ping"})");
  CHECK(j.at("ok") == true);
  CHECK(j.at("result").at("pid").get<int>() > 0);
  CHECK(Agent::is_heartbeat(R"({"id":21,"op":"heartbeat"})"));
  CHECK_FALSE(Agent::is_heartbeat("heartbeat"));
  j = reply_of(a, R"({"id":21,"op":"heartbeat"})");
  CHECK(j.at("result").at("armed") == false);  // nothing armed: a heartbeat changes nothing
  auto over = nlohmann::json::parse(a.oversized_reply());
  CHECK(over.at("id") == 0);
  CHECK(over.at("error").at("kind") == "protocol");
}

TEST_CASE("validate_args: what a fuzzer drives; every known op has a decoder", "[peer][protocol]") {
  for (const auto& op : known_ops()) {
    INFO(op);
    nlohmann::json minimal = nlohmann::json::object();
    if (op == "hello") minimal = {{"protocol", kProtocolVersion}};
    if (op == "read") minimal = {{"ids", {"net.core.rmem_max"}}};
    if (op == "validate" || op == "preview" || op == "apply") minimal = {{"changes", nlohmann::json::array()}};
    if (op == "equal") minimal = {{"items", nlohmann::json::array()}};
    if (op == "iperf3_ensure" || op == "iperf3_stop") minimal = {{"bind_address", "100.64.0.1"}};
    CHECK_NOTHROW(validate_args(op, minimal));
    CHECK_THROWS_AS(validate_args(op, {{"surprise", true}}), ArgsError);
  }
  CHECK_THROWS_AS(validate_args("format_disk", nlohmann::json::object()), ArgsError);
  CHECK_THROWS_WITH(validate_args("apply", {{"changes", {{{"id", "net.x"}, {"value", "1"}}}}, {"lease_ms", 999999}}),
                    Catch::Contains("lease_ms"));
  CHECK_THROWS_WITH(validate_args("probe_start", {{"interfaces", {"eth0"}}, {"interval_ms", 5}}), Catch::Contains("interval_ms"));
}

TEST_CASE("an answer's integer that is a float or out of range is refused, never converted", "[peer]") {
  // fuzz_agent found a hello whose now_ms was 17649007199254740993633600000 (a double to nlohmann):
  // converting it to long long was undefined behaviour.
  HelloResult h;
  h.protocol = kProtocolVersion;
  h.pid = 4242;
  h.now_ms = 1764633600123;
  nlohmann::json j = encode(h);
  CHECK(decode_result<HelloResult>(j).now_ms == 1764633600123);
  j["now_ms"] = nlohmann::json::parse("17649007199254740993633600000");
  CHECK_THROWS_WITH(decode_result<HelloResult>(j), Catch::Contains("where an integer is expected"));
  j["now_ms"] = 1.5;
  CHECK_THROWS(decode_result<HelloResult>(j));
  j["now_ms"] = 1764633600123;
  j["pid"] = 4294967296LL;  // beyond int
  CHECK_THROWS_WITH(decode_result<HelloResult>(j), Catch::Contains("4294967296"));
}
