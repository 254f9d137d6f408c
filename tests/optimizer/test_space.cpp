// Space: encoding round trips for every parameter type, conditions, validation messages.
#include <catch2/catch.hpp>

#include "optimizer/sampling.hpp"
#include "optimizer/space.hpp"

using namespace wgopt::opt;

namespace {

Space every_type() {
  return Space({Param::real("x", 0.5, 2.0), Param::real("lr", 1e-4, 1.0, true),
                Param::integer("mtu", 1280, 1440, 10), Param::integer("backlog", 1000, 100000, 1, true),
                Param::pow2("ring", 256, 8192), Param::categorical("cc", {"cubic", "bbr", "reno"}),
                Param::boolean("gro"), Param::mask("rps", 4),
                Param::integer("rfs", 0, 32768).when("rps", {std::int64_t{0}}, true)});
}

}  // namespace

TEST_CASE("encode/decode round-trips every parameter type", "[space]") {
  Space s = every_type();
  REQUIRE(s.validate().empty());
  REQUIRE(s.dims() == 1 + 1 + 1 + 1 + 1 + 3 + 1 + 4 + 1);
  Rng rng(3);
  for (int k = 0; k < 300; ++k) {
    Config c = random_config(s, rng);
    INFO(to_string(c));
    REQUIRE(s.validate(c).empty());
    auto x = s.encode(c);
    for (double v : x) REQUIRE((v >= 0.0 && v <= 1.0));
    Config back = s.decode(x);
    // Reals come back within rounding of exp/log; everything else exactly.
    for (const auto& [name, v] : c) {
      REQUIRE(back.count(name));
      if (auto d = std::get_if<double>(&v)) {
        REQUIRE(std::get<double>(back.at(name)) == Approx(*d).epsilon(1e-12));
      } else {
        REQUIRE(back.at(name) == v);
      }
    }
    REQUIRE(back.size() == c.size());
  }
}

TEST_CASE("the extremes and grid points of each type encode where documented", "[space]") {
  Space s = every_type();
  Config c{{"x", 2.0}, {"lr", 1e-4}, {"mtu", std::int64_t{1440}}, {"backlog", std::int64_t{1000}},
           {"ring", std::int64_t{1024}}, {"cc", std::string("bbr")}, {"gro", true}, {"rps", std::int64_t{5}},
           {"rfs", std::int64_t{7}}};
  REQUIRE(s.validate(c).empty());
  auto x = s.encode(c);
  CHECK(x[0] == Approx(1.0));
  CHECK(x[1] == Approx(0.0));
  CHECK(x[2] == Approx(1.0));
  CHECK(x[3] == Approx(0.0));
  CHECK(x[4] == Approx(2.0 / 5.0));               // 2^8 .. 2^13: 1024 is level 2 of 5
  CHECK((x[5] == 0.0 && x[6] == 1.0 && x[7] == 0.0));  // one-hot bbr
  CHECK(x[8] == 1.0);
  CHECK((x[9] == 1.0 && x[10] == 0.0 && x[11] == 1.0 && x[12] == 0.0));  // 5 = 0b0101, bit 0 first
  CHECK(x[13] == Approx(7.0 / 32768.0));
}

TEST_CASE("decode snaps any point to the nearest valid value", "[space]") {
  Space s({Param::integer("mtu", 1280, 1440, 10), Param::pow2("ring", 256, 8192),
           Param::categorical("cc", {"cubic", "bbr", "reno"})});
  Config c = s.decode({0.51, 0.55, 0.2, 0.1, 0.9});
  CHECK(std::get<std::int64_t>(c.at("mtu")) == 1360);  // 0.51 * 16 levels = 8.16 -> level 8
  CHECK(std::get<std::int64_t>(c.at("ring")) == 2048);  // 0.55 * 5 = 2.75 -> 2^(8+3)
  CHECK(std::get<std::string>(c.at("cc")) == "reno");   // argmax of the one-hot block
  CHECK(s.project(s.encode(c)) == s.encode(c));
}

TEST_CASE("a pow2 parameter from 0 has 0 (off) as the level below 1", "[space]") {
  Space s({Param::pow2("flows", 0, 8)});  // 0, 1, 2, 4, 8
  REQUIRE(s.validate().empty());
  CHECK(s.params()[0].levels() == 5);
  CHECK(s.encode({{"flows", std::int64_t{0}}})[0] == 0.0);
  CHECK(s.encode({{"flows", std::int64_t{1}}})[0] == Approx(0.25));
  CHECK(s.encode({{"flows", std::int64_t{8}}})[0] == Approx(1.0));
  for (std::int64_t v : {0, 1, 2, 4, 8}) {
    Config c{{"flows", v}};
    CHECK(s.validate(c).empty());
    CHECK(s.decode(s.encode(c)) == c);
  }
  CHECK(std::get<std::int64_t>(s.value_at(0, 0.1)) == 0);
  CHECK(std::get<std::int64_t>(s.value_at(0, 0.2)) == 1);
  CHECK(s.validate(Config{{"flows", std::int64_t{3}}}) == "param 'flows': 3 is not a power of two or 0");
  // Without min 0, 0 is outside the range as before.
  CHECK_FALSE(Space({Param::pow2("ring", 1, 8)}).validate(Config{{"ring", std::int64_t{0}}}).empty());
}

TEST_CASE("a pow2 parameter from 0 may start above 0 at a larger power of two (a flow table's least size)", "[space]") {
  Param flows = Param::pow2("flows", 0, 16);
  flows.first_on = 2;  // 0, 2, 4, 8, 16: the kernel refuses a flow table of 1
  Space s({flows});
  REQUIRE(s.validate().empty());
  CHECK(s.params()[0].levels() == 5);
  for (std::int64_t v : {0, 2, 4, 8, 16}) {
    Config c{{"flows", v}};
    CHECK(s.validate(c).empty());
    CHECK(s.decode(s.encode(c)) == c);
  }
  CHECK(s.encode({{"flows", std::int64_t{2}}})[0] == Approx(0.25));
  CHECK(std::get<std::int64_t>(s.value_at(0, 0.2)) == 2);
  CHECK(s.validate(Config{{"flows", std::int64_t{1}}}) == "param 'flows': 1 is between 0 (off) and the least value above it, 2");
  // Every value a strategy draws or steps to is one of the levels: never 1.
  Rng rng(3);
  for (int i = 0; i < 200; ++i) CHECK(s.validate(random_config(s, rng)).empty());
  for (int i = 0; i < 200; ++i) CHECK(s.validate(perturb(s, Config{{"flows", std::int64_t{2}}}, 0.3, rng)).empty());
  const auto steps = discrete_neighbours(s, Config{{"flows", std::int64_t{2}}});
  REQUIRE(steps.size() == 2);  // 0 below, 4 above
  CHECK(std::get<std::int64_t>(steps[0].at("flows")) == 0);
  CHECK(std::get<std::int64_t>(steps[1].at("flows")) == 4);
  flows.first_on = 3;
  CHECK(Space({flows}).validate() == "param 'flows': pow2 first_on 3 is not a power of two up to max 16");
}

TEST_CASE("a condition switches a parameter on and off", "[space]") {
  Space s = every_type();
  Config base = s.complete({});
  CHECK(std::get<std::int64_t>(base.at("rps")) == 0);
  CHECK_FALSE(base.count("rfs"));  // rps == 0: rfs is inactive and absent
  Config on = base;
  on["rps"] = std::int64_t{3};
  on = s.complete(on);
  REQUIRE(on.count("rfs"));
  // Inactive coordinates encode as 0 and decode to nothing.
  auto x = s.encode(base);
  CHECK(x.back() == 0.0);
  CHECK_FALSE(s.decode(x).count("rfs"));

  Config stray = base;
  stray["rfs"] = std::int64_t{5};
  CHECK(s.validate(stray).find("'rfs' which is inactive") != std::string::npos);
}

TEST_CASE("validate names the bad parameter and the rule", "[space]") {
  CHECK(Space({Param::pow2("ring", 300, 8192)}).validate() == "param 'ring': pow2 min 300 is neither 0 nor a power of two");
  CHECK(Space({Param::real("x", 1, 1)}).validate() == "param 'x': min 1 must be less than max 1");
  CHECK(Space({Param::real("x", 0, 1, true)}).validate() == "param 'x': log scale needs min > 0 (min is 0)");
  // Found by fuzz/fuzz_space: the width overflowed to inf and decode gave NaN.
  CHECK(Space({Param::real("x", -1e308, 1e308)}).validate() ==
        "param 'x': max - min (1e+308 - -1e+308) must be a finite number");
  CHECK(Space({Param::real("x", 1e-308, 1e308, true)}).validate().empty());
  CHECK(Space({Param::categorical("cc", {"bbr"})}).validate() == "param 'cc': a categorical needs at least 2 choices");
  CHECK(Space({Param::mask("rps", 0)}).validate() == "param 'rps': mask bits 0 must be 1 .. 62");
  CHECK(Space({Param::boolean("a"), Param::boolean("a")}).validate() == "param 'a' is defined twice");
  CHECK(Space({Param::integer("rfs", 0, 10).when("rps", {std::int64_t{0}}, true), Param::mask("rps", 4)})
            .validate() == "param 'rfs': condition on 'rps' which must be listed before it");
  CHECK(Space().validate() == "the space has no parameters: add at least one");

  Space s = every_type();
  Config c = s.complete({});
  c["mtu"] = std::int64_t{1285};
  CHECK(s.validate(c) == "param 'mtu': 1285 is not on the grid 1280 + k*10");
  c = s.complete({});
  c["cc"] = std::string("vegas");
  CHECK(s.validate(c) == "param 'cc': 'vegas' is not one of the choices");
  c = s.complete({});
  c.erase("gro");
  CHECK(s.validate(c) == "config lacks param 'gro'");
}
