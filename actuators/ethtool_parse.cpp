#include "actuators/ethtool_parse.hpp"

#include <cstdlib>

#include "common/util.hpp"

namespace wgopt::act {

namespace {
std::optional<long long> number(const std::string& s) {
  const std::string t = trim(s);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(t.c_str(), &end, 10);
  if (end == t.c_str() || *end != '\0') return std::nullopt;
  return v;
}
}  // namespace

std::optional<std::pair<long long, long long>> PresetCurrent::get(const std::string& key) const {
  auto m = max.find(key);
  auto c = current.find(key);
  if (m == max.end() || c == current.end() || !m->second || !c->second || *m->second < 1) return std::nullopt;
  return std::make_pair(*m->second, *c->second);
}

PresetCurrent parse_preset_current(const std::string& text) {
  PresetCurrent out;
  std::map<std::string, std::optional<long long>>* section = nullptr;
  for (const auto& raw : split_lines(text)) {
    const std::string line = trim(raw);
    if (line.starts_with("Pre-set maximums")) { section = &out.max; continue; }
    if (line.starts_with("Current hardware settings")) { section = &out.current; continue; }
    if (!section) continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    (*section)[trim(line.substr(0, colon))] = number(line.substr(colon + 1));
  }
  return out;
}

std::map<std::string, Feature> parse_features(const std::string& text) {
  std::map<std::string, Feature> out;
  std::string parent;
  for (const auto& raw : split_lines(text)) {
    const std::string line = trim(raw);
    if (line.starts_with("Features for")) continue;
    const bool indented = !raw.empty() && (raw[0] == '\t' || raw[0] == ' ');
    auto colon = line.find(": ");
    if (colon == std::string::npos) continue;
    auto words = split_ws(line.substr(colon + 2));
    if (words.empty() || (words[0] != "on" && words[0] != "off")) continue;
    Feature f;
    f.on = words[0] == "on";
    f.fixed = line.find("[fixed]") != std::string::npos;
    f.refused = line.find("[requested on]") != std::string::npos;
    const std::string name = line.substr(0, colon);
    out[name] = f;
    if (!indented) parent = name;
    else if (f.refused && !parent.empty()) out[parent].refused = true;
  }
  return out;
}

std::string parse_flow_hash(const std::string& text) {
  // ethtool's own table (ethtool.c, dump_rxfhash), in the order its letters are listed.
  static const std::vector<std::pair<std::string, char>> fields = {
      {"L2DA", 'm'}, {"VLAN tag", 'v'}, {"L3 proto", 't'}, {"IP SA", 's'},
      {"IP DA", 'd'}, {"L4 bytes 0 & 1", 'f'}, {"L4 bytes 2 & 3", 'n'}};
  std::string letters;
  for (const auto& [name, letter] : fields) {
    for (const auto& raw : split_lines(text)) {
      if (trim(raw).starts_with(name)) {
        letters += letter;
        break;
      }
    }
  }
  return letters;
}

Indirection parse_indirection(const std::string& text) {
  Indirection out;
  bool in_table = false;
  for (const auto& raw : split_lines(text)) {
    const std::string line = trim(raw);
    auto with = line.find(" with ");
    if (line.starts_with("RX flow hash indirection table") && with != std::string::npos) {
      out.rx_rings = static_cast<int>(number(split_ws(line.substr(with + 6))[0]).value_or(0));
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    auto colon = line.find(':');
    if (colon == std::string::npos || !number(line.substr(0, colon))) {
      if (!line.empty()) in_table = false;  // "RSS hash key:" ends the table
      continue;
    }
    for (const auto& w : split_ws(line.substr(colon + 1))) {
      if (auto v = number(w)) out.table.push_back(static_cast<int>(*v));
    }
  }
  return out;
}

DriverInfo parse_driver_info(const std::string& text) {
  DriverInfo out;
  for (const auto& raw : split_lines(text)) {
    auto colon = raw.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(raw.substr(0, colon));
    const std::string value = trim(raw.substr(colon + 1));
    if (key == "driver") out.driver = value;
    if (key == "bus-info") out.bus_info = value;
  }
  return out;
}

RootQdisc parse_root_qdisc(const std::string& text) {
  for (const auto& raw : split_lines(text)) {
    auto w = split_ws(raw);
    if (w.size() >= 4 && w[0] == "qdisc" && w[3] == "root") return {w[1], w[2]};
  }
  return {};
}

bool says_not_supported(const std::string& err) {
  return err.find("Operation not supported") != std::string::npos ||
         err.find("not supported") != std::string::npos;
}

}  // namespace wgopt::act
