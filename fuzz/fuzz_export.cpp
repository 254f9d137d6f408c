// `wgopt export` (experiments/export/) fed a fuzzed profile through parse_profile, so only what
// a profile file can hold reaches the renderers. Every format is rendered (`--format all`).
// The output invariant of issue 14 item 1 (no profile text becomes code or an extra line):
//   (a) sysctl.d: only comments, blank lines and one `KEY = VALUE` line per sysctl knob of the
//       profile, VALUE the knob's canonical value;
//   (b) the sh script has no non-comment line that the same profile with every free-text field
//       (each scalar under host: and evidence:, except host.nproc, which the script uses) blanked
//       does not have (the blanked one gets the interface roles the original resolved to);
//   (c) no file contains NUL or a CR that is not part of CRLF;
//   (d) unit, .link, TuneD and env files hold only comments, blank lines, [Section] and key=value
//       lines, and the same keys, sections and paths as the blanked profile's files;
//   (e) the boot-files manifest parses back (parse_manifest) to exactly the boot files rendered,
//       and to the same manifest as the blanked profile's;
// and rendering is pure: the same profile gives the same bytes twice.
#include <algorithm>
#include <functional>
#include <map>
#include <regex>
#include <set>

#include "actuators/profile.hpp"
#include "experiments/export/export.hpp"
#include "experiments/export/export_manifest.hpp"
#include "experiments/export/export_model.hpp"
#include "fuzz/check.hpp"

using namespace wgopt;

namespace {
constexpr const char* kTarget = "export";

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  size_t from = 0;
  while (from < s.size()) {
    size_t nl = s.find('\n', from);
    if (nl == std::string::npos) nl = s.size();
    out.push_back(s.substr(from, nl - from));
    from = nl + 1;
  }
  return out;
}

bool is_comment_or_blank(const std::string& line) {
  const size_t b = line.find_first_not_of(" \t");
  return b == std::string::npos || line[b] == '#' || line[b] == ';';
}

// Every scalar below `node` blanked (a deep copy; the profile's own tree is untouched).
YAML::Node blanked(const YAML::Node& node, bool keep_nproc) {
  if (!node || node.IsNull()) return node;
  if (node.IsScalar()) return YAML::Node("");
  YAML::Node out = YAML::Clone(node);
  std::function<void(YAML::Node, bool)> walk = [&](YAML::Node n, bool top) {
    if (n.IsMap()) {
      for (auto it = n.begin(); it != n.end(); ++it) {
        YAML::Node v = it->second;
        const bool nproc = top && keep_nproc && it->first.IsScalar() && it->first.Scalar() == "nproc";
        if (v.IsScalar() && !nproc) v = "";
        else walk(v, false);
      }
    } else if (n.IsSequence()) {
      for (size_t i = 0; i < n.size(); ++i) {
        YAML::Node v = n[i];
        if (v.IsScalar()) v = "";
        else walk(v, false);
      }
    }
  };
  walk(out, true);
  return out;
}

void check_bytes(const experiments::ExportFile& f) {
  if (f.content.find('\0') != std::string::npos) fuzz::broken(kTarget, f.path + " holds a NUL byte");
  for (size_t i = f.content.find('\r'); i != std::string::npos; i = f.content.find('\r', i + 1)) {
    if (i + 1 >= f.content.size() || f.content[i + 1] != '\n') fuzz::broken(kTarget, f.path + " holds a lone CR:\n" + f.content);
  }
}

void check_sysctl(const experiments::ExportFile& f, const experiments::exportfmt::Model& m) {
  std::map<std::string, std::string> want;
  for (const auto& k : m.knobs) {
    if (k.kind == "sysctl") want[k.id] = k.value;
  }
  std::set<std::string> seen;
  for (const auto& line : lines_of(f.content)) {
    if (is_comment_or_blank(line)) continue;
    const auto eq = line.find(" = ");
    const std::string key = eq == std::string::npos ? line : line.substr(0, eq);
    auto it = want.find(key);
    if (eq == std::string::npos || it == want.end() || line.substr(eq + 3) != it->second || !seen.insert(key).second)
      fuzz::broken(kTarget, "sysctl.d line that is not one of the profile's sysctls: '" + fuzz::shown(line) + "'\n" + f.content);
  }
  if (seen.size() != want.size()) fuzz::broken(kTarget, "sysctl.d misses a sysctl knob:\n" + f.content);
}

// The structure of an ini-like file ([Section] and key= lines), after checking every line is one.
std::vector<std::string> ini_shape(const experiments::ExportFile& f) {
  static const std::regex section(R"(\[[A-Za-z0-9_ .-]+\])");
  static const std::regex key(R"(([A-Za-z_][A-Za-z0-9_.-]*)=.*)");
  std::vector<std::string> shape;
  for (const auto& line : lines_of(f.content)) {
    if (is_comment_or_blank(line)) continue;
    std::smatch mt;
    if (std::regex_match(line, section)) shape.push_back(line);
    else if (std::regex_match(line, mt, key)) shape.push_back(mt[1].str() + "=");
    else fuzz::broken(kTarget, f.path + " line is not a comment, [Section] or key=value: '" + fuzz::shown(line) + "'\n" + f.content);
  }
  return shape;
}

void check_manifest(const experiments::ExportFile& f, const experiments::ExportFile& blank,
                    const std::vector<experiments::ExportFile>& files) {
  experiments::BootManifest m, b;
  try {
    m = experiments::parse_manifest(f.content, f.path);
    b = experiments::parse_manifest(blank.content, blank.path);
  } catch (const Error& e) {
    fuzz::broken(kTarget, std::string("the boot-files manifest does not parse back: ") + e.what() + "\n" + f.content);
  }
  if (m.formats != b.formats || m.files != b.files || m.underlay != b.underlay || m.wireguard != b.wireguard)
    fuzz::broken(kTarget, "the boot-files manifest differs from the blanked profile's:\n" + f.content);
  for (const auto& path : m.files) {
    const bool rendered = std::any_of(files.begin(), files.end(), [&](const auto& x) { return x.path == path; });
    if (!rendered) fuzz::broken(kTarget, "the boot-files manifest names a file not rendered: '" + fuzz::shown(path) + "'\n" + f.content);
  }
}

std::set<std::string> code_lines(const std::string& script) {
  std::set<std::string> out;
  for (const auto& line : lines_of(script)) {
    if (!is_comment_or_blank(line)) out.insert(line);
  }
  return out;
}

void check(const std::string& text) {
  const act::Profile p = act::parse_profile(text, "fuzz.yaml");
  const experiments::ExportOptions opts;
  const auto files = experiments::render_export(p, "all", opts);
  if (experiments::render_export(p, "all", opts).size() != files.size()) fuzz::broken(kTarget, "render_export is not pure");
  const auto model = experiments::exportfmt::build_model(p, opts);

  // reset() rebinds the copy's nodes; operator= on a yaml-cpp Node would write into p's tree.
  act::Profile blank = p;
  blank.host.reset(blanked(p.host, true));
  blank.evidence.reset(blanked(p.evidence, false));
  // The interface roles may come from free text (evidence.plant.testbed, host.place): give the
  // blanked profile the same roles explicitly, so only the text itself differs between the two.
  experiments::ExportOptions same_roles = opts;
  same_roles.underlay = model.roles.underlay;
  same_roles.wireguard = model.roles.wireguard;
  if (!same_roles.underlay.empty() && same_roles.underlay == same_roles.wireguard) return;
  std::vector<experiments::ExportFile> plain;
  try {
    plain = experiments::render_export(blank, "all", same_roles);
  } catch (const Error& e) {
    fuzz::broken(kTarget, std::string("the profile renders but not with its free text blanked: ") + e.what());
  }
  std::map<std::string, const experiments::ExportFile*> by_path;
  for (const auto& f : plain) by_path[f.path] = &f;

  const auto again = experiments::render_export(p, "all", opts);
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    if (again[i].content != f.content) fuzz::broken(kTarget, f.path + " differs between two renders");
    check_bytes(f);
    auto other = by_path.find(f.path);
    if (other == by_path.end()) fuzz::broken(kTarget, f.path + " is rendered only with the free text present");
    const auto& bf = *other->second;
    if (f.path.ends_with(".sh")) {
      const auto allowed = code_lines(bf.content);
      for (const auto& line : code_lines(f.content)) {
        if (!allowed.count(line))
          fuzz::broken(kTarget, "script line that only the profile's free text brings: '" + fuzz::shown(line) + "'\n" + f.content);
      }
    } else if (f.path.starts_with("etc/sysctl.d/")) {
      check_sysctl(f, model);
    } else if (f.path == experiments::kManifestPath) {
      check_manifest(f, bf, files);
    } else if (ini_shape(f) != ini_shape(bf)) {
      fuzz::broken(kTarget, f.path + " has other sections or keys than with the free text blanked:\n" + f.content);
    }
  }
  if (plain.size() != files.size()) fuzz::broken(kTarget, "blanking the free text changed the set of files");
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::guarded(kTarget, [&] { check(fuzz::text_of(data, size)); });
}
