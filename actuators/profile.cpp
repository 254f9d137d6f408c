#include "actuators/profile.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <iterator>

#include <fmt/format.h>

#include <set>
#include <string_view>

#include "actuators/allowlist.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/place.hpp"
#include "common/util.hpp"
#include "common/yaml_text.hpp"

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

// A `knobs:` map (`where` is "" or "peer." in messages) appended to `out`.
void parse_knobs(const YAML::Node& node, const std::string& source, const std::string& where,
                 std::vector<std::pair<std::string, std::string>>& out) {
  if (node.IsNull()) return;  // "knobs:" with nothing under it: an empty profile
  if (!node.IsMap()) {
    throw UsageError(fmt::format("profile {}: '{}knobs' must be a map of ID: VALUE", source, where));
  }
  std::set<std::string> seen;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) throw UsageError(fmt::format("profile {}: a knob id must be a plain string", source));
    const std::string id = entry.first.Scalar();
    if (auto problem = knob_id_problem(id)) {
      throw UsageError(fmt::format("profile {}: {}{}", source, where.empty() ? "" : "in the peer section, ", *problem));
    }
    if (!seen.insert(id).second) {
      throw UsageError(fmt::format("profile {}: knob {}{} is given twice: keep one", source, where, id));
    }
    if (!entry.second.IsScalar()) {
      throw UsageError(fmt::format("profile {}: knob {}{} must have one value (write a triple as one string: "
                                   "\"4096 131072 16777216\")", source, where, id));
    }
    const std::string value = entry.second.Scalar();
    if (value.empty()) throw UsageError(fmt::format("profile {}: knob {}{} is empty: give it a value", source, where, id));
    if (value.find('\n') != std::string::npos) {
      throw UsageError(fmt::format("profile {}: knob {}{} has a value of more than one line: write it on one line",
                                   source, where, id));
    }
    if (value.size() > kMaxValueBytes) {
      throw UsageError(fmt::format("profile {}: knob {}{} has a value of {} bytes: a knob value is at most {} bytes",
                                   source, where, id, value.size(), kMaxValueBytes));
    }
    // Every knob value is numbers, masks or words in ASCII. Other bytes could only be a mistake, and
    // dump_profile could not give them back (yaml-cpp writes invalid UTF-8 as U+FFFD).
    if (!printable_ascii(value)) {
      throw UsageError(fmt::format("profile {}: knob {}{} has a control or non-ASCII byte in its value: write it "
                                   "in plain ASCII as `wgopt show` does",
                                   source, where, id));
    }
    out.emplace_back(id, value);
  }
}

// The host facts the gates compare (experiments/search/host_gate.hpp): a map of scalars, nproc a
// count. A list or a word there compared as "no facts" (exit 0: matches) or as a difference.
// One fact's value: one non-empty value (free text otherwise: exports escape it); a place as Place::describe() (or `show --ssh`) writes it; an
// interface a valid name; a peer's interface pairs a map of names.
void check_fact(const std::string& key, const YAML::Node& value, const std::string& source, const char* where) {
  auto bad = [&](const char* what) {
    return UsageError(fmt::format("profile {}: '{}host.{}' must be {}, as wgopt writes it", source, where, key, what));
  };
  if (key == "interfaces") {
    if (!value.IsMap()) throw bad("a map of this end's interface names to the peer's (wg0: wg0)");
    for (const auto& kv : value) {
      if (!kv.first.IsScalar() || !kv.second.IsScalar() || !is_valid_ifname(kv.first.Scalar()) || !is_valid_ifname(kv.second.Scalar())) {
        throw bad("a map of this end's interface names to the peer's (wg0: wg0)");
      }
    }
    return;
  }
  if (!value.IsScalar() || trim(value.Scalar()).empty()) throw bad("one value, not empty");
  const std::string& v = value.Scalar();
  if ((key == "underlay" || key == "wireguard") && !is_valid_ifname(v)) throw bad("an interface name such as eth0");
  if (key == "place" || key == "mirrored_to") {
    const bool named = (v.starts_with("netns ") || v.starts_with("peer ")) && v.find_first_not_of(' ', v.find(' ')) != std::string::npos &&
                       v.find(' ', v.find(' ') + 1) == std::string::npos;
    if (v != "host" && !named) throw bad("host or netns NAME");
  }
}

YAML::Node parse_host(const YAML::Node& node, const std::string& source, const char* where) {
  if (node.IsNull()) return node;
  if (!node.IsMap()) {
    throw UsageError(fmt::format("profile {}: '{}host' must be a map of facts (kernel, nproc, sku, nic_driver, ...), as "
                                 "`wgopt search` writes it",
                                 source, where));
  }
  // A misspelled fact ("nprocs: 4") was not compared at all: the gate passed a host of another kind;
  // so did a fact that is not one value (kernel: [5]) or a place no wgopt writes (place: mars).
  const bool peer = std::string(where) == "peer.";
  const auto& known = peer ? kPeerHostFacts : kHostFacts;
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      throw UsageError(fmt::format("profile {}: unknown key '{}host.{}': the facts there are {}, as wgopt writes them", source,
                                   where, one_line(key, 80), fmt::join(known, ", ")));
    }
    check_fact(key, kv.second, source, where);
  }
  const YAML::Node& map = node;  // const: a missing key must not be created
  const YAML::Node n = map["nproc"];
  if (n && (!n.IsScalar() || n.Scalar().empty() || n.Scalar().size() > 6 ||
            n.Scalar().find_first_not_of("0123456789") != std::string::npos || std::stoi(n.Scalar()) < 1)) {
    throw UsageError(fmt::format("profile {}: '{}host.nproc' must be a count of CPUs such as 8", source, where));
  }
  return node;
}

PeerProfile parse_peer(const YAML::Node& node, const std::string& source) {
  if (!node.IsMap()) throw UsageError(fmt::format("profile {}: 'peer' must be a map with 'knobs' and 'host'", source));
  PeerProfile peer;
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
    if (key == "knobs") parse_knobs(kv.second, source, "peer.", peer.knobs);
    else if (key == "host") peer.host = parse_host(kv.second, source, "peer.");
    else throw UsageError(fmt::format("profile {}: unknown key 'peer.{}': the peer section has knobs and host", source, one_line(key, 80)));
  }
  return peer;
}
// yaml-cpp keeps both entries of a key given twice at any depth; the first is what wgopt reads and
// Ansible's or Python's YAML read the last (found by an exploratory test: `peer.knobs` given twice
// exported both, and `peer.host.nproc` twice gated on the first).
void refuse_repeated_keys(const YAML::Node& node, const std::string& source, const std::string& path) {
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) refuse_repeated_keys(node[i], source, fmt::format("{}[{}]", path, i));
    return;
  }
  if (!node.IsMap()) return;
  std::set<std::string> keys;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) continue;
    const std::string key = path.empty() ? kv.first.Scalar() : path + "." + kv.first.Scalar();
    if (!keys.insert(kv.first.Scalar()).second) {
      throw UsageError(fmt::format("profile {}: '{}' is given twice: keep one", source, one_line(key, 120)));
    }
    refuse_repeated_keys(kv.second, source, key);
  }
}

void emit_knobs(YAML::Emitter& out, const std::vector<std::pair<std::string, std::string>>& knobs) {
  out << YAML::Key << "knobs" << YAML::Value << YAML::BeginMap;
  for (const auto& [id, value] : knobs) {
    out << YAML::Key << id << YAML::Value;
    if (plain_decimal(value)) out << value;
    else out << YAML::DoubleQuoted << value;
  }
  out << YAML::EndMap;
}
}  // namespace

Profile parse_profile(const std::string& text, const std::string& source_path) {
  const std::string source = one_line(source_path, 200);  // how messages name it: one line whatever the path
  // A study given for its profile (found by an exploratory test: "not valid YAML: ... unknown escape
  // character: " and a raw control byte).
  if (text.starts_with(std::string_view("SQLite format 3\0", 16))) {
    throw UsageError(fmt::format("{} is a study (SQLite), not a profile: give the profile the search wrote beside it (.yaml), or "
                                 "read the study with `wgopt report`",
                                 source));
  }
  YAML::Node root;
  try {
    // A second document (after ---) was dropped without a word: its knobs never applied or exported.
    // Found from the text, not with YAML::LoadAll: yaml-cpp's LoadAll never returned on a 371-byte
    // input the profile fuzzer made (2026-12-06), where Load parses the first document and stops.
    if (holds_second_document(text)) {
      throw UsageError(fmt::format("profile {} holds more than one YAML document (separated by ---): a profile is one; merge them",
                                   source));
    }
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw UsageError(fmt::format("profile {} is not valid YAML: line {}: {}", source, e.mark.line + 1, one_line(e.msg, 200)));
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
    if ((key == "knobs" || key == "host" || key == "evidence" || key == "peer") && !keys.insert(key).second) {
      throw UsageError(fmt::format("profile {}: '{}' is given twice: merge them into one", source, key));
    }
    if (key == "knobs") {
      parse_knobs(kv.second, source, "", p.knobs);
    } else if (key == "host") {
      p.host = parse_host(kv.second, source, "");
    } else if (key == "evidence") {
      p.evidence = kv.second;
    } else if (key == "peer") {
      p.peer = parse_peer(kv.second, source);
    } else {
      throw UsageError(fmt::format("profile {}: unknown key '{}': a profile has knobs, host, evidence and peer", source, one_line(key, 80)));
    }
  }
  if (!keys.count("knobs")) throw UsageError(fmt::format("profile {} has no 'knobs:' map (see `wgopt show`)", source));
  refuse_repeated_keys(root, source, "");  // in host, evidence and peer: the sections above say their own
  return p;
}

namespace {

// A profile is a short YAML map; one larger than this is not one (`/dev/zero` grew wgopt to 568 MB
// in a second, found by an exploratory test).
constexpr std::size_t kMaxProfileBytes = std::size_t{16} << 20;

// The file's text, read in order (a pipe such as `<(cmd)` or /dev/stdin too: pread refused those
// as "check the path"); "-" is standard input (the Ansible role passes the profile that way).
std::string read_profile_text(const std::string& path) {
  const std::string shown = path == "-" ? "(standard input)" : one_line(path, 200);
  const int fd = path == "-" ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw UsageError(fmt::format("cannot read profile {}: {}: check the path", shown, std::strerror(errno)));
  std::string text;
  std::array<char, 65536> buf{};
  std::string problem;
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) problem = fmt::format("cannot read profile {}: {}: check the path", shown, std::strerror(errno));
    if (n <= 0) break;
    text.append(buf.data(), static_cast<std::size_t>(n));
    if (text.size() > kMaxProfileBytes) {
      problem = fmt::format("profile {} is larger than 16 MiB: a profile is a short YAML map of knobs (`wgopt show` prints one)", shown);
      break;
    }
  }
  if (fd != 0) ::close(fd);
  if (!problem.empty()) throw UsageError(problem);
  return text;
}

}  // namespace

Profile load_profile(const std::string& path) {
  return parse_profile(read_profile_text(path), path == "-" ? "(standard input)" : path);
}

std::string dump_profile(const Profile& profile) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  if (profile.host && !profile.host.IsNull()) out << YAML::Key << "host" << YAML::Value << profile.host;
  emit_knobs(out, profile.knobs);
  if (profile.evidence && !profile.evidence.IsNull()) out << YAML::Key << "evidence" << YAML::Value << profile.evidence;
  if (profile.peer) {
    out << YAML::Key << "peer" << YAML::Value << YAML::BeginMap;
    if (profile.peer->host && !profile.peer->host.IsNull()) out << YAML::Key << "host" << YAML::Value << profile.peer->host;
    emit_knobs(out, profile.peer->knobs);
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace wgopt::act
