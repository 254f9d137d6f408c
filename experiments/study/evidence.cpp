#include "experiments/study/evidence.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "common/error.hpp"
#include "common/util.hpp"

namespace wgopt::experiments {

using nlohmann::json;

namespace {

// The JSON tree as a YAML tree, node by node: maps and sequences in flow style (the profile shows
// the evidence as one block), numbers in JSON's shortest round-trip text, keys in JSON's order.
YAML::Node yaml_tree(const json& j) {
  if (j.is_object()) {
    YAML::Node m(YAML::NodeType::Map);
    m.SetStyle(YAML::EmitterStyle::Flow);
    for (auto it = j.begin(); it != j.end(); ++it) m[it.key()] = yaml_tree(it.value());
    return m;
  }
  if (j.is_array()) {
    YAML::Node s(YAML::NodeType::Sequence);
    s.SetStyle(YAML::EmitterStyle::Flow);
    for (const auto& e : j) s.push_back(yaml_tree(e));
    return s;
  }
  if (j.is_null()) return YAML::Node(YAML::NodeType::Null);
  if (j.is_string()) return YAML::Node(j.get<std::string>());
  return YAML::Node(j.dump());  // numbers and booleans: their JSON text
}

json interval_json(const Interval& i) { return json::array({i.low, i.high}); }

json arm_json(const ArmEvidence& a) {
  json j = json::object();
  if (a.ci95) j["ci95"] = interval_json(*a.ci95);
  if (a.n) j["n"] = *a.n;
  for (const auto& [id, v] : a.params) j["params"][id] = v;
  if (a.score) j["score"] = *a.score;
  if (a.throughput_mbps) j["throughput_mbps"] = *a.throughput_mbps;
  if (a.trial) j["trial"] = *a.trial;
  return j;
}

json changes_json(const std::vector<ChangeEvidence>& changes) {
  json a = json::array();
  for (const auto& c : changes) {
    json j = {{"from", c.from}, {"id", c.id}, {"to", c.to}};
    if (c.ci95) j["ci95"] = interval_json(*c.ci95);
    if (c.contribution) j["contribution"] = *c.contribution;
    if (c.check) j["check"] = to_json(*c.check);
    if (c.return_unchecked) j["return_unchecked"] = true;
    a.push_back(j);
  }
  return a;
}

// Reads typed fields below a YAML map; what does not read is a problem naming the field.
class Reader {
 public:
  Reader(std::string where, Evidence::Mode mode) : where_(std::move(where)), mode_(mode) {}

  // Strict: the first problem is a UsageError. Lenient: the field is left out.
  void problem(const std::string& field, const std::string& what) {
    if (mode_ == Evidence::Mode::Strict) throw UsageError(fmt::format("{}: evidence.{} {}", where_, field, what));
  }

  // The child `key` of `map` when it is there; a problem when it is there but not of `type`.
  std::optional<YAML::Node> child(const YAML::Node& map, const char* key, const std::string& field, YAML::NodeType::value type) {
    const YAML::Node& m = map;  // const: reading a missing key must not create it
    YAML::Node n = m[key];
    if (!n || n.IsNull()) return std::nullopt;
    if (n.Type() != type) {
      problem(field, type == YAML::NodeType::Map ? "is not a map" : type == YAML::NodeType::Sequence ? "is not a list" : "is not a single value");
      return std::nullopt;
    }
    return n;
  }

  std::string text(const YAML::Node& map, const char* key, const std::string& prefix) {
    auto n = child(map, key, prefix + key, YAML::NodeType::Scalar);
    return n ? n->Scalar() : "";
  }

  // An optional YAML boolean (true/false, yes/no, on/off in any case; absent: false).
  bool flag(const YAML::Node& map, const char* key, const std::string& prefix) {
    auto n = child(map, key, prefix + key, YAML::NodeType::Scalar);
    if (!n) return false;
    bool v = false;
    if (YAML::convert<bool>::decode(*n, v)) return v;
    problem(prefix + key, fmt::format("'{}' is not true or false", one_line(n->Scalar(), 80)));
    return false;
  }

  std::optional<double> number(const YAML::Node& map, const char* key, const std::string& prefix) {
    auto n = child(map, key, prefix + key, YAML::NodeType::Scalar);
    if (!n) return std::nullopt;
    const std::string& s = n->Scalar();
    char* end = nullptr;
    errno = 0;
    const double v = s.empty() ? NAN : std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v)) {
      problem(prefix + key, fmt::format("'{}' is not a finite number: a study records only measured, finite scores; "
                                        "run `wgopt search` again or correct the profile",
                                        one_line(s, 80)));
      return std::nullopt;
    }
    return v;
  }

  std::optional<int> integer(const YAML::Node& map, const char* key, const std::string& prefix) {
    auto v = number(map, key, prefix);
    if (!v) return std::nullopt;
    if (*v != std::floor(*v) || std::abs(*v) > 1e9) {
      problem(prefix + key, fmt::format("'{}' is not a whole number", *v));
      return std::nullopt;
    }
    return static_cast<int>(*v);
  }

  std::optional<Interval> interval(const YAML::Node& map, const char* key, const std::string& prefix) {
    auto n = child(map, key, prefix + key, YAML::NodeType::Sequence);
    if (!n) return std::nullopt;
    if (n->size() != 2) {
      problem(prefix + key, "is not an interval [low, high]");
      return std::nullopt;
    }
    YAML::Node pair(YAML::NodeType::Map);
    pair["low"] = (*n)[0];
    pair["high"] = (*n)[1];
    auto lo = number(pair, "low", prefix + key + ".");
    auto hi = number(pair, "high", prefix + key + ".");
    if (!lo || !hi) return std::nullopt;
    return Interval{*lo, *hi};
  }

  std::optional<int> port(const YAML::Node& map, const std::string& prefix) {
    auto n = child(map, "port", prefix + "port", YAML::NodeType::Scalar);
    if (!n) return std::nullopt;
    const std::string& s = n->Scalar();
    const bool digits = !s.empty() && s.size() <= 5 && s.find_first_not_of("0123456789") == std::string::npos;
    const int port = digits ? std::stoi(s) : 0;
    if (port < 1 || port > 65535) {
      problem(prefix + "port", fmt::format("'{}' is not a port: use a number 1..65535", one_line(s, 80)));
      return std::nullopt;
    }
    return port;
  }

  // A change's `check: {gain, ci95, together}`; all three, or a problem.
  std::optional<PlantCheck> plant_check(const YAML::Node& item, const std::string& prefix) {
    auto m = child(item, "check", prefix + "check", YAML::NodeType::Map);
    if (!m) return std::nullopt;
    const std::string at = prefix + "check.";
    auto gain = number(*m, "gain", at);
    auto ci = interval(*m, "ci95", at);
    auto together = integer(*m, "together", at);
    if (!gain || !ci || !together || *together < 1) {
      problem(prefix + "check", "needs gain, ci95 and together (1 or more)");
      return std::nullopt;
    }
    return PlantCheck{.gain = *gain, .ci95 = *ci, .together = *together};
  }

  std::vector<ChangeEvidence> changes(const YAML::Node& node, const char* key) {
    std::vector<ChangeEvidence> out;
    auto list = child(node, key, key, YAML::NodeType::Sequence);
    if (!list) return out;
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string prefix = fmt::format("{}[{}].", key, i);
      const YAML::Node item = (*list)[i];
      if (!item.IsMap()) {
        problem(prefix.substr(0, prefix.size() - 1), "is not a map");
        continue;
      }
      ChangeEvidence c{.id = text(item, "id", prefix), .from = text(item, "from", prefix), .to = text(item, "to", prefix)};
      c.contribution = number(item, "contribution", prefix);
      c.ci95 = interval(item, "ci95", prefix);
      c.check = plant_check(item, prefix);
      c.return_unchecked = flag(item, "return_unchecked", prefix);
      if (c.id.empty()) problem(prefix + "id", "is missing: every change names its knob");
      else out.push_back(std::move(c));
    }
    return out;
  }

  ArmEvidence arm(const YAML::Node& m, const std::string& prefix) {
    ArmEvidence a;
    a.score = number(m, "score", prefix);
    a.ci95 = interval(m, "ci95", prefix);
    a.n = integer(m, "n", prefix);
    a.trial = integer(m, "trial", prefix);
    a.throughput_mbps = number(m, "throughput_mbps", prefix);
    if (auto p = child(m, "params", prefix + "params", YAML::NodeType::Map)) {
      for (const auto& kv : *p) {
        if (kv.second.IsScalar()) a.params[kv.first.Scalar()] = kv.second.Scalar();
        else problem(prefix + "params." + one_line(kv.first.Scalar(), 80), "is not a single value");
      }
    }
    return a;
  }

 private:
  std::string where_;
  Evidence::Mode mode_;
};

}  // namespace

json to_json(const GainEvidence& gain) {
  json g = json::object();
  if (gain.ci95) g["ci95"] = interval_json(*gain.ci95);
  if (!gain.method.empty()) g["method"] = gain.method;
  if (gain.p_value) g["p_value"] = *gain.p_value;
  if (gain.relative) g["relative"] = *gain.relative;
  if (gain.score) g["score"] = *gain.score;
  return g;
}

json to_json(const PlantCheck& c) { return {{"ci95", interval_json(c.ci95)}, {"gain", c.gain}, {"together", c.together}}; }

std::optional<double> Evidence::recorded_score() const {
  if (winner && winner->score) return winner->score;
  if (baseline && baseline->score) return baseline->score;
  return std::nullopt;
}

json Evidence::to_json() const {
  json j = json::object();
  if (baseline) j["baseline"] = arm_json(*baseline);
  if (candidate) j["candidate"] = arm_json(*candidate);
  if (!confirmation.empty()) j["confirmation"] = confirmation;
  if (!created.empty()) j["created"] = created;
  if (!changes.empty()) j["changes"] = changes_json(changes);
  if (drifted) j["drifted"] = *drifted;
  if (gain) {
    j["gain"] = experiments::to_json(*gain);
  }
  if (!objective.empty()) j["objective"] = objective;
  if (!outcome.empty()) j["outcome"] = outcome;
  if (plant) {
    json p = json::object();
    if (!plant->netns.empty()) p["netns"] = plant->netns;
    if (!plant->peer.empty()) p["peer"] = plant->peer;
    if (plant->port) p["port"] = *plant->port;
    if (!plant->testbed.empty()) p["testbed"] = plant->testbed;
    if (!plant->ssh.empty()) p["ssh"] = plant->ssh;
    j["plant"] = p;
  }
  if (recorded) j["recorded_score"] = *recorded;
  if (!returned.empty()) j["returned"] = changes_json(returned);
  if (score) j["score"] = *score;
  if (!simplification.empty()) j["simplification"] = simplification;
  if (!study.empty()) j["study"] = study;
  if (trials) j["trials"] = *trials;
  if (winner) j["winner"] = arm_json(*winner);
  return j;
}

YAML::Node Evidence::to_yaml() const { return yaml_tree(to_json()); }

Evidence Evidence::from_yaml(const YAML::Node& node, const std::string& where, Mode mode) {
  Evidence e;
  Reader r(where, mode);
  if (!node || node.IsNull()) return e;
  if (!node.IsMap()) {
    if (mode == Mode::Strict) throw UsageError(fmt::format("{}: evidence is not a map: a profile's evidence is what `wgopt search` wrote", where));
    return e;
  }
  e.study = r.text(node, "study", "");
  e.outcome = r.text(node, "outcome", "");
  e.objective = r.text(node, "objective", "");
  e.confirmation = r.text(node, "confirmation", "");
  e.created = r.text(node, "created", "");
  e.trials = r.integer(node, "trials", "");
  if (auto p = r.child(node, "plant", "plant", YAML::NodeType::Map)) {
    PlantEvidence pl;
    pl.testbed = r.text(*p, "testbed", "plant.");
    pl.peer = r.text(*p, "peer", "plant.");
    pl.port = r.port(*p, "plant.");
    pl.netns = r.text(*p, "netns", "plant.");
    pl.ssh = r.text(*p, "ssh", "plant.");
    e.plant = pl;
  }
  if (auto b = r.child(node, "baseline", "baseline", YAML::NodeType::Map)) e.baseline = r.arm(*b, "baseline.");
  if (auto w = r.child(node, "winner", "winner", YAML::NodeType::Map)) e.winner = r.arm(*w, "winner.");
  if (auto c = r.child(node, "candidate", "candidate", YAML::NodeType::Map)) e.candidate = r.arm(*c, "candidate.");
  if (auto g = r.child(node, "gain", "gain", YAML::NodeType::Map)) {
    GainEvidence gain;
    gain.score = r.number(*g, "score", "gain.");
    gain.ci95 = r.interval(*g, "ci95", "gain.");
    gain.relative = r.number(*g, "relative", "gain.");
    gain.p_value = r.number(*g, "p_value", "gain.");
    gain.method = r.text(*g, "method", "gain.");
    e.gain = gain;
  }
  e.changes = r.changes(node, "changes");
  e.returned = r.changes(node, "returned");
  e.simplification = r.text(node, "simplification", "");
  e.recorded = r.number(node, "recorded_score", "");
  e.score = r.number(node, "score", "");
  if (auto d = r.child(node, "drifted", "drifted", YAML::NodeType::Sequence)) {
    e.drifted.emplace();
    for (const auto& item : *d) {
      if (item.IsScalar()) e.drifted->push_back(item.Scalar());
      else r.problem("drifted", "holds an item that is not a single value");
    }
  }
  return e;
}

std::string plant_check_text(const std::optional<PlantCheck>& c) {
  if (!c) return "-";
  return fmt::format("{:+.1f} (95% {:+.1f} .. {:+.1f}), {}", c->gain, c->ci95.low, c->ci95.high,
                     c->together == 1 ? std::string("alone") : fmt::format("{} together", c->together));
}

Support support_of(const ChangeEvidence& c) {
  if (c.check && c.check->ci95.high < 0) return Support::Check;  // the plant's word first
  if (c.ci95 && c.ci95->low > 0) return Support::Model;
  return Support::Confirmation;
}

const char* to_string(Support s) {
  switch (s) {
    case Support::Model: return "model";
    case Support::Check: return "check";
    case Support::Confirmation: return "confirmation";
  }
  return "?";
}

namespace {

const char* it_or_them(int n) { return n == 1 ? "it" : "them"; }

// "1 by a plant check that measured the winner worse without it (alone or with others), 2 by ...".
std::string support_parts(int by_check, int by_model) {
  std::string out;
  if (by_check > 0)
    out = fmt::format("{} by a plant check that measured the winner worse without {} (alone or with others)", by_check,
                      it_or_them(by_check));
  if (by_model > 0) out += fmt::format("{}{} by the model's 95% interval above zero", out.empty() ? "" : ", ", by_model);
  return out;
}

}  // namespace

std::string support_line(const std::vector<ChangeEvidence>& kept) {
  if (kept.empty()) return "";
  if (kept.size() == 1) return "support: the winner's one change is measured on its own by the confirmation against the baseline";
  int by_check = 0, by_model = 0, unchecked = 0;
  for (const auto& c : kept) {
    const Support s = support_of(c);
    by_check += s == Support::Check;
    by_model += s == Support::Model;
    unchecked += c.return_unchecked;
  }
  const int n = int(kept.size()), shown = by_check + by_model, rest = n - shown;
  if (rest == 0) return fmt::format("support: every kept change is shown to help ({})", support_parts(by_check, by_model));
  std::string out =
      shown == 0 ? fmt::format("support: none of the {} kept changes is shown to help: they rest only on the winner's confirmation "
                               "as a whole (no 95% interval above zero, no check that measured a loss without them)", n)
                 : fmt::format("support: {} of {} kept changes {} shown to help ({}); {} rest{} only on the winner's confirmation as "
                               "a whole (no 95% interval above zero, no check that measured a loss without {})",
                               shown, n, shown == 1 ? "is" : "are", support_parts(by_check, by_model), rest, rest == 1 ? "s" : "",
                               it_or_them(rest));
  if (unchecked > 0) {
    const std::string which = unchecked < rest ? fmt::format("{} of them", unchecked) : rest == 1 ? "it" : fmt::format("all {}", rest);
    out += fmt::format("; the model proposed returning {} and no check finished measuring that (no time, too few rounds or Ctrl-C): a longer search measures it", which);
  }
  return out;
}

std::string kept_text(bool return_unchecked) { return return_unchecked ? "kept (return proposed, not checked)" : "kept"; }

Evidence Evidence::from_json(const json& j, const std::string& where, Mode mode) {
  return from_yaml(j.is_null() ? YAML::Node() : yaml_tree(j), where, mode);
}

}  // namespace wgopt::experiments
