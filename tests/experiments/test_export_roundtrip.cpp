// `wgopt export` round trip on paper, for every format: each exported file is read back the way
// its consumer reads it (sysctl.d lines, the script's steps, .link keys, TuneD's [sysctl]/[net]
// options, NB_MTU) into knob id -> value, and together with the knobs it lists as "not
// expressible here" it must give back the whole profile, each knob once, with its value. So no
// knob is silently dropped or changed by any format. (The script's effect on a real kernel is
// tests/integration/test_export.cpp.)
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <regex>

#include "common/util.hpp"
#include "experiments/export/export.hpp"

using namespace wgopt;
using namespace wgopt::experiments;

namespace {

using Values = std::map<std::string, std::string>;

struct ReadBack {
  Values expressed;  // what the file sets
  Values listed;     // what it names as not expressible
};

void add(Values& v, const std::string& id, const std::string& value) {
  INFO("knob " << id << " appears twice");
  CHECK(v.emplace(id, value).second);
}

void read_listed(const std::string& text, ReadBack& rb) {
  static const std::regex listed(R"(#   (\S+) = (.+))");
  for (const auto& line : split_lines(text)) {
    std::smatch m;
    if (std::regex_match(line, m, listed)) add(rb.listed, m[1], m[2]);
  }
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front()) s = s.substr(1, s.size() - 2);
  return s;
}

// Key/value lines under [section] headers, comments skipped.
std::vector<std::tuple<std::string, std::string, std::string>> ini(const std::string& text) {
  std::vector<std::tuple<std::string, std::string, std::string>> out;
  std::string section;
  for (const auto& raw : split_lines(text)) {
    const std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    if (line.front() == '[') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    const auto eq = line.find('=');
    out.emplace_back(section, trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
  }
  return out;
}

ReadBack read_sysctl(const std::vector<ExportFile>& files) {
  ReadBack rb;
  static const std::regex assignment(R"(([a-z0-9_.]+) = (.+))");
  for (const auto& line : split_lines(files.at(0).content)) {
    std::smatch m;
    if (std::regex_match(line, m, assignment)) add(rb.expressed, m[1], m[2]);
  }
  read_listed(files.at(0).content, rb);
  return rb;
}

// A step is "# ID = VALUE" and the command under it, whose last arguments are VALUE's words.
ReadBack read_script(const std::vector<ExportFile>& files) {
  ReadBack rb;
  const std::string& sh = files.at(1).content;
  static const std::regex step(R"(# (\S+) = (.+))");
  auto lines = split_lines(sh);
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    std::smatch m;
    if (!std::regex_match(lines[i], m, step)) continue;
    const std::string id = m[1], value = m[2];
    std::string quoted;
    for (const auto& w : split_ws(value)) quoted += " '" + w + "'";
    if (id == "irqbalance") quoted = value == "active" ? " start irqbalance" : " stop irqbalance";
    INFO(lines[i + 1]);
    const bool carries = lines[i + 1].find(quoted) != std::string::npos &&
                         (id.find('/') == std::string::npos || lines[i + 1].find("'" + id.substr(0, id.find('/')) + "'") != std::string::npos);
    CHECK(carries);
    if (carries) add(rb.expressed, id, value);
  }
  read_listed(sh, rb);
  return rb;
}

ReadBack read_link(const std::vector<ExportFile>& files) {
  static const std::map<std::string, std::string> knob_of = {
      {"MTUBytes", "mtu"},           {"TransmitQueueLength", "txqueuelen"}, {"RxBufferSize", "rings/rx"},
      {"TxBufferSize", "rings/tx"},  {"CombinedChannels", "channels/combined"}, {"RxChannels", "channels/rx"},
      {"TxChannels", "channels/tx"}, {"GenericReceiveOffload", "offload/gro"}, {"GenericSegmentationOffload", "offload/gso"},
      {"TCPSegmentationOffload", "offload/tso"}};
  ReadBack rb;
  std::string dev;
  std::optional<std::string> tso6;
  for (const auto& [section, key, value] : ini(files.at(0).content)) {
    if (key == "OriginalName") dev = value;
    if (key == "TCP6SegmentationOffload") tso6 = value;
    auto it = knob_of.find(key);
    if (it == knob_of.end()) continue;
    const std::string v = value == "true" ? "on" : value == "false" ? "off" : value;
    add(rb.expressed, dev + "/" + it->second, v);
  }
  if (rb.expressed.count(dev + "/offload/tso")) CHECK(tso6 == (rb.expressed[dev + "/offload/tso"] == "on" ? "true" : "false"));
  read_listed(files.at(0).content, rb);
  return rb;
}

ReadBack read_tuned(const std::vector<ExportFile>& files) {
  ReadBack rb;
  std::map<std::string, std::string> device_of;  // section -> devices=
  for (const auto& [section, key, value] : ini(files.at(0).content)) {
    if (key == "devices") device_of[section] = value;
  }
  for (const auto& [section, key, value] : ini(files.at(0).content)) {
    if (section == "sysctl") add(rb.expressed, key, unquote(value));
    if (!section.starts_with("net")) continue;
    const std::string dev = device_of.at(section);
    if (key == "mtu" || key == "txqueuelen") add(rb.expressed, dev + "/" + key, value);
    if (key == "channels" || key == "ring" || key == "features") {
      const std::string group = key == "channels" ? "channels/" : key == "ring" ? "rings/" : "offload/";
      auto w = split_ws(value);
      REQUIRE(w.size() % 2 == 0);
      for (size_t i = 0; i < w.size(); i += 2) add(rb.expressed, dev + "/" + group + w[i], w[i + 1]);
    }
  }
  read_listed(files.at(0).content, rb);
  return rb;
}

ReadBack read_netbird(const std::vector<ExportFile>& files) {
  ReadBack rb;
  const std::string& text = files.at(0).content;
  std::smatch m;
  static const std::regex iface(R"(sets the MTU of its interface \((\S+)\))");
  static const std::regex env(R"((?:^|\n)NB_MTU=(\d+)\n)");
  REQUIRE(std::regex_search(text, m, iface));
  const std::string dev = m[1];
  REQUIRE(std::regex_search(text, m, env));
  add(rb.expressed, dev + "/mtu", m[1]);
  read_listed(text, rb);
  return rb;
}

}  // namespace

TEST_CASE("export round trip: every format gives back each knob once, set or named, with its value", "[export]") {
  const act::Profile profile = act::load_profile(std::string(WGOPT_FIXTURES_DIR) + "/export/profile.yaml");
  ExportOptions o;
  Values want;
  for (const auto& [id, v] : profile.knobs) want[id] = v;

  const std::vector<std::pair<std::string, ReadBack (*)(const std::vector<ExportFile>&)>> readers = {
      {"sysctl", read_sysctl}, {"systemd", read_script}, {"networkd", read_link}, {"tuned", read_tuned}, {"netbird", read_netbird}};
  for (const auto& [format, reader] : readers) {
    SECTION(format) {
      const ReadBack rb = reader(render_export(profile, format, o));
      CHECK_FALSE(rb.expressed.empty());
      Values all = rb.listed;
      for (const auto& [id, v] : rb.expressed) {
        INFO(id << " is both set and listed as not expressible");
        CHECK(all.emplace(id, v).second);
      }
      CHECK(all == want);
    }
  }
}

TEST_CASE("export round trip: the nightly job re-tunes the profile where its install line puts it", "[export]") {
  const act::Profile profile = act::load_profile(std::string(WGOPT_FIXTURES_DIR) + "/export/profile.yaml");
  ExportOptions o;
  o.profile_label = "best.yaml";
  o.profile_path = "/srv/wgopt/best.yaml";
  for (const auto& f : render_export(profile, "timer", o)) {
    CHECK_THAT(f.content, Catch::Contains("install -D -m 0644 best.yaml /srv/wgopt/best.yaml"));
    if (f.path.ends_with(".service")) CHECK_THAT(f.content, Catch::Contains(" retune --profile /srv/wgopt/best.yaml "));
  }
}
