#include "actuators/profile.hpp"

#include <fmt/format.h>

#include <set>

#include "actuators/allowlist.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/util.hpp"

namespace wgopt::act {

namespace {
bool plain_decimal(const std::string& v) {
  return !v.empty() && v.size() < 19 && v.find_first_not_of("0123456789") == std::string::npos &&
         (v == "0" || v[0] != '0');
}
// Space to '~', and tab (a triple may be written with tabs).
bool printable_ascii(const std::string& v) {
  for (unsigned char c : v) {
    if ((c < 0x20 && c != '\t') || c > 0x7e) return false;
  }
  return true;
}
}  // namespace

Profile parse_profile(const std::string& text, const std::string& source_path) {
  const std::string source = one_line(source_path, 200);  // how messages name it: one line whatever the path
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw UsageError(fmt::format("profile {} is not valid YAML: line {}: {}", source, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) {
    throw UsageError(fmt::format("profile {} must be a YAML map with a 'knobs:' map (see `wgopt show`)", source));
  }
  Profile p;
  // yaml-cpp keeps both entries of a key given twice, which YAML does not allow: every reader of a
  // profile (apply, export, retune) gets this refusal instead of its own reading of the two.
  std::set<std::string> keys;
  for (const auto& kv : root) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
    if ((key == "knobs" || key == "host" || key == "evidence") && !keys.insert(key).second) {
      throw UsageError(fmt::format("profile {}: '{}' is given twice: merge them into one", source, key));
    }
    if (key == "knobs") {
      if (kv.second.IsNull()) continue;  // "knobs:" with nothing under it: an empty profile
      if (!kv.second.IsMap()) {
        throw UsageError(fmt::format("profile {}: 'knobs' must be a map of ID: VALUE", source));
      }
      std::set<std::string> seen;
      for (const auto& entry : kv.second) {
        if (!entry.first.IsScalar()) throw UsageError(fmt::format("profile {}: a knob id must be a plain string", source));
        const std::string id = entry.first.Scalar();
        if (auto problem = knob_id_problem(id)) throw UsageError(fmt::format("profile {}: {}", source, *problem));
        if (!seen.insert(id).second) {
          throw UsageError(fmt::format("profile {}: knob {} is given twice: keep one", source, id));
        }
        if (!entry.second.IsScalar()) {
          throw UsageError(fmt::format("profile {}: knob {} must have one value (write a triple as one string: "
                                       "\"4096 131072 16777216\")", source, id));
        }
        const std::string value = entry.second.Scalar();
        if (value.empty()) throw UsageError(fmt::format("profile {}: knob {} is empty: give it a value", source, id));
        if (value.find('\n') != std::string::npos) {
          throw UsageError(fmt::format("profile {}: knob {} has a value of more than one line: write it on one line",
                                       source, id));
        }
        if (value.size() > kMaxValueBytes) {
          throw UsageError(fmt::format("profile {}: knob {} has a value of {} bytes: a knob value is at most {} bytes",
                                       source, id, value.size(), kMaxValueBytes));
        }
        // Every knob value is numbers, masks or words in ASCII. Other bytes could only be a mistake, and
        // dump_profile could not give them back (yaml-cpp writes invalid UTF-8 as U+FFFD).
        if (!printable_ascii(value)) {
          throw UsageError(fmt::format("profile {}: knob {} has a control or non-ASCII byte in its value: write it "
                                       "in plain ASCII as `wgopt show` does",
                                       source, id));
        }
        p.knobs.emplace_back(id, value);
      }
    } else if (key == "host") {
      p.host = kv.second;
    } else if (key == "evidence") {
      p.evidence = kv.second;
    } else {
      throw UsageError(fmt::format("profile {}: unknown key '{}': a profile has knobs, host and evidence", source, one_line(key, 80)));
    }
  }
  if (!keys.count("knobs")) throw UsageError(fmt::format("profile {} has no 'knobs:' map (see `wgopt show`)", source));
  return p;
}

Profile load_profile(const std::string& path) {
  auto text = read_file(path);
  if (!text) throw UsageError(fmt::format("cannot read profile {}: check the path", one_line(path, 200)));
  return parse_profile(*text, path);
}

std::string dump_profile(const Profile& profile) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  if (profile.host && !profile.host.IsNull()) out << YAML::Key << "host" << YAML::Value << profile.host;
  out << YAML::Key << "knobs" << YAML::Value << YAML::BeginMap;
  for (const auto& [id, value] : profile.knobs) {
    out << YAML::Key << id << YAML::Value;
    if (plain_decimal(value)) out << value;
    else out << YAML::DoubleQuoted << value;
  }
  out << YAML::EndMap;
  if (profile.evidence && !profile.evidence.IsNull()) out << YAML::Key << "evidence" << YAML::Value << profile.evidence;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace wgopt::act
