#include "optimizer/space_yaml.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>

#include "common/error.hpp"
#include "common/yaml_text.hpp"

namespace wgopt::opt {

namespace {

const std::set<std::string> kKeys = {"name", "type", "min", "max", "log", "step", "choices", "bits", "current", "when"};

struct EntryError {
  std::string what;
};

// A mapping key as text for the unknown-key check; a list or map used as a key ("[a]: 1") has none,
// and as<std::string>() would throw yaml-cpp's bad conversion past the one-line error.
std::string key_text(const YAML::Node& key) { return key.IsScalar() ? key.Scalar() : "(a list or map as a key)"; }

double number(const YAML::Node& n, const char* key) {
  try {
    double v = n.as<double>();
    if (!std::isfinite(v)) throw EntryError{fmt::format("'{}' must be a finite number", key)};
    return v;
  } catch (const YAML::Exception&) {
    throw EntryError{fmt::format("'{}' must be a number, not '{}'", key, n.Scalar())};
  }
}

std::int64_t integer(const YAML::Node& n, const char* key) {
  double v = number(n, key);
  if (v != std::floor(v) || std::fabs(v) > 1e15) throw EntryError{fmt::format("'{}' must be an integer", key)};
  return std::int64_t(v);
}

bool boolean(const YAML::Node& n, const char* key) {
  try {
    return n.as<bool>();
  } catch (const YAML::Exception&) {
    throw EntryError{fmt::format("'{}' must be true or false, not '{}'", key, n.Scalar())};
  }
}

// A scalar read as a value of parameter p's type (for `current:` and `when:`).
Value value_for(const Param& p, const YAML::Node& n, const char* key) {
  if (!n.IsScalar()) throw EntryError{fmt::format("'{}' must be a single value", key)};
  switch (p.type) {
    case ParamType::real: return number(n, key);
    case ParamType::integer:
    case ParamType::pow2:
    case ParamType::mask: return integer(n, key);
    case ParamType::boolean: return boolean(n, key);
    case ParamType::categorical: return n.Scalar();
  }
  return n.Scalar();
}

Param parse_param(const YAML::Node& e, const Space& earlier) {
  if (!e.IsMap()) throw EntryError{"must be a mapping such as {name: x, type: real, min: 0, max: 1}"};
  std::set<std::string> seen;
  for (const auto& kv : e) {
    const std::string key = key_text(kv.first);
    if (!kKeys.count(key))
      throw EntryError{fmt::format("unknown key '{}' (known: name, type, min, max, log, step, choices, bits, current, when)", key)};
    if (!seen.insert(key).second) throw EntryError{fmt::format("'{}' is given twice: keep one", key)};
  }
  if (!e["name"] || !e["name"].IsScalar() || e["name"].Scalar().empty()) throw EntryError{"needs a 'name'"};
  if (!e["type"]) throw EntryError{"needs a 'type': real, int, pow2, categorical, bool or mask"};
  const std::string name = e["name"].Scalar(), type = e["type"].Scalar();
  auto need = [&](const char* key) {
    if (!e[key]) throw EntryError{fmt::format("type {} needs '{}'", type, key)};
    return e[key];
  };
  Param p;
  if (type == "real") {
    p = Param::real(name, number(need("min"), "min"), number(need("max"), "max"), e["log"] && boolean(e["log"], "log"));
  } else if (type == "int" || type == "integer") {
    p = Param::integer(name, integer(need("min"), "min"), integer(need("max"), "max"),
                       e["step"] ? integer(e["step"], "step") : 1, e["log"] && boolean(e["log"], "log"));
  } else if (type == "pow2") {
    p = Param::pow2(name, integer(need("min"), "min"), integer(need("max"), "max"));
  } else if (type == "categorical") {
    auto c = need("choices");
    if (!c.IsSequence()) throw EntryError{"'choices' must be a list such as [cubic, bbr]"};
    std::vector<std::string> choices;
    for (const auto& x : c) {
      if (!x.IsScalar()) throw EntryError{"every choice must be a single value"};
      choices.push_back(x.Scalar());
    }
    p = Param::categorical(name, std::move(choices));
  } else if (type == "bool" || type == "boolean") {
    p = Param::boolean(name);
  } else if (type == "mask") {
    p = Param::mask(name, int(integer(need("bits"), "bits")));
  } else {
    throw EntryError{fmt::format("type '{}' is unknown: use real, int, pow2, categorical, bool or mask", type)};
  }
  if (auto w = e["when"]) {
    if (!w.IsMap() || !w["param"]) throw EntryError{"'when' must look like {param: NAME, in: [V, ...]} or {param: NAME, not: V}"};
    const std::string parent = w["param"].Scalar();
    int pi = earlier.index_of(parent);
    if (pi < 0) throw EntryError{fmt::format("'when' refers to '{}' which is not a parameter listed before this one", parent)};
    const bool negate = bool(w["not"]);
    if (bool(w["in"]) == negate) throw EntryError{"'when' needs exactly one of 'in' or 'not'"};
    auto vals = negate ? w["not"] : w["in"];
    std::vector<Value> values;
    const Param& pp = earlier.params()[size_t(pi)];
    if (vals.IsSequence()) {
      for (const auto& v : vals) values.push_back(value_for(pp, v, "when"));
    } else {
      values.push_back(value_for(pp, vals, "when"));
    }
    p.condition = Condition{parent, std::move(values), negate};
  }
  return p;
}

}  // namespace

SpaceSpec parse_space_yaml(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw UsageError(fmt::format("{}: not valid YAML (line {}: {}): fix the syntax", source, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) throw UsageError(fmt::format("{}: expected a mapping with 'objective' and 'params'", source));
  // yaml-cpp keeps the first of a key given twice and drops a second document: `objective: maximize`
  // then `objective: minimize` ran as maximize, exit 0. Refused, as a profile's are.
  if (holds_second_document(text)) {
    throw UsageError(fmt::format("{}: holds a second YAML document (after ---): a space is one document", source));
  }
  std::set<std::string> seen;
  for (const auto& kv : root) {
    const std::string key = key_text(kv.first);
    if (key != "objective" && key != "params")
      throw UsageError(fmt::format("{}: unknown top-level key '{}': use objective and params", source, key));
    if (!seen.insert(key).second) throw UsageError(fmt::format("{}: '{}' is given twice: keep one", source, key));
  }
  SpaceSpec spec;
  if (auto o = root["objective"]) {
    if (o.Scalar() == "maximize" || o.Scalar() == "maximise") spec.direction = Direction::maximize;
    else if (o.Scalar() == "minimize" || o.Scalar() == "minimise") spec.direction = Direction::minimize;
    else throw UsageError(fmt::format("{}: objective '{}' is unknown: use maximize or minimize", source, o.Scalar()));
  }
  auto params = root["params"];
  if (!params || !params.IsSequence() || params.size() == 0)
    throw UsageError(fmt::format("{}: 'params' must be a non-empty list of parameters", source));

  Config current;
  bool all_current = true;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& e = params[i];
    std::string label = fmt::format("{} params[{}]", source, i);
    if (e.IsMap() && e["name"] && e["name"].IsScalar()) label += fmt::format(" '{}'", e["name"].Scalar());
    try {
      Param p = parse_param(e, spec.space);
      if (auto c = e["current"]) current[p.name] = value_for(p, c, "current");
      else all_current = false;
      spec.space.add(std::move(p));
      // Checked entry by entry so the message points at the first bad one.
      if (auto err = spec.space.validate(); !err.empty()) {
        const std::string prefix = fmt::format("param '{}': ", spec.space.params().back().name);
        if (err.rfind(prefix, 0) == 0) err = err.substr(prefix.size());
        throw EntryError{err};
      }
    } catch (const EntryError& err) {
      throw UsageError(fmt::format("{}: {}", label, err.what));
    } catch (const YAML::Exception& err) {
      throw UsageError(fmt::format("{}: {}", label, err.msg));
    }
  }
  if (!current.empty()) {
    // `current:` values of parameters a condition switches off are simply not part of the start.
    Config start;
    for (int i = 0; i < int(spec.space.params().size()); ++i) {
      const auto& name = spec.space.params()[size_t(i)].name;
      if (spec.space.is_active(i, start) && current.count(name)) start[name] = current[name];
    }
    if (auto err = spec.space.validate(start); err.empty()) {
      spec.start = std::move(start);
    } else if (all_current) {
      throw UsageError(fmt::format("{}: the 'current' values do not form a valid configuration: {}", source, err));
    } else {
      throw UsageError(fmt::format("{}: 'current' is given for some parameters only ({}): give it for all or none",
                                   source, err));
    }
  }
  return spec;
}

}  // namespace wgopt::opt
