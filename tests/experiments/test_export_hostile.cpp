// `wgopt export` fed hostile text (issue 14, item 1): every free-text field of a profile (all host
// facts, all evidence strings, the profile's file name) holds newlines, CR, NUL, other C0 and C1
// controls, Unicode line separators, bytes that are not UTF-8, quotes, `$()`, backticks, `;`, `\`,
// systemd `%` specifiers, TuneD `${f:exec:...}` and a trailing backslash. Each exported file must
// still parse, as its consumer parses it, into exactly what the same profile with harmless text
// gives: no extra sysctl, no extra unit key, no extra shell line, no extra variable, and nothing
// runs. The consumers used: sh -n and sh itself (the script's header, the env file), procps
// `sysctl --dry-run -p`, `systemd-analyze verify` (when installed, as test_export.cpp does),
// Python's configparser set up exactly as TuneD's loader sets it up (TuneD itself is not installed:
// it needs dbus and polkitd; tuned/utils/config_parser.py is configparser), and for --format
// ansible Ansible's own YAML loader (the playbook, tasks and vars hold profile text only as !unsafe
// strings, which Ansible never templates; the role's copies of the boot files are checked as those
// files; test_export_hostile_ansible.cpp runs the role itself). Options that go into
// executable positions (the timer's ExecStart and OnCalendar, the interface options) are refused
// with one line instead.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "common/error.hpp"
#include "common/exec.hpp"
#include "common/util.hpp"
#include "experiments/export/export.hpp"

using namespace wgopt;
using namespace wgopt::experiments;
using namespace std::string_literals;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

// Where an injected command would leave its trace.
const std::string kMark = "/tmp/wgopt-hostile-mark-" + std::to_string(::getpid());

// Everything that has broken a line-based file format somewhere, with commands that touch kMark.
std::string payload() {
  const std::string touch = "touch " + kMark;
  std::string s = "x\nnet.core.somaxconn = 1\n" + touch + "\n$(" + touch + ")`" + touch + "`;" + touch + "\r" + touch + "\r\n";
  s += "[Service]\nExecStartPre=/bin/" + touch + "\nNB_MTU=9000\nsummary=$(" + touch + ")\n";
  s += "\0"s;
  s += "'\"\\ %h %n %% $HOME ${f:exec:touch:" + kMark + "} # ; \t\x1b[2J\x7f\x01";
  s += "\xc2\x85" + touch + "\xe2\x80\xa8" + touch + "\xe2\x80\xa9" + touch + "\x0b\x0c" + touch;
  s += "\n" + touch + " \\";  // a trailing backslash continues a line in unit files
  return s;
}

// The same payload without bytes that are not UTF-8 (a YAML file cannot hold those).
std::string payload_with_bad_utf8() { return payload() + "\xff\xfe\xc0\xaf\xed\xa0\x80 " + "end"; }

// A file name a profile can have: no NUL, no '/'.
std::string hostile_file_name() {
  return "p\n$(touch " + kMark.substr(5) + ")`id`;'\"\\ %h $HOME\r\x1b\xe2\x80\xa8.yaml";
}

// The fixture (every knob kind) with every host fact and evidence string replaced by `text`.
act::Profile with_text(const std::string& text) {
  act::Profile p = act::load_profile(std::string(WGOPT_FIXTURES_DIR) + "/export/profile.yaml");
  YAML::Node host(YAML::NodeType::Map);
  // nproc is a count, place a place, underlay and wireguard interface names, refused otherwise when
  // a profile is read (test_host_gate): every other fact is free text.
  for (const char* key : {"kernel", "nic_driver", "sku", "wireguard_mode"}) host[key] = text;
  host["nproc"] = 4;
  host["place"] = "netns wgopt-hostile";
  host["underlay"] = "eth0";
  host["wireguard"] = "wt0";
  YAML::Node ev(YAML::NodeType::Map);
  for (const char* key : {"study", "outcome", "created", "confirmation", "objective", "trials"}) ev[key] = text;
  for (const char* key : {"baseline", "winner", "gain", "plant"}) {
    YAML::Node sub(YAML::NodeType::Map);
    for (const char* leaf : {"score", "throughput_mbps", "relative", "p_value", "testbed", "peer", "port"}) sub[leaf] = text;
    ev[key] = sub;
  }
  p.host = host;
  p.evidence = ev;
  return p;
}

ExportOptions labelled(const std::string& label) {
  ExportOptions o;
  o.profile_label = label;
  return o;
}

struct TempDir {
  fs::path dir;
  explicit TempDir(const std::string& name) : dir(fs::temp_directory_path() / ("wgopt-hostile-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() { fs::remove_all(dir); }
};

CommandResult run(const std::vector<std::string>& argv) {
  ProcessRunner r;
  return r.run({.argv = argv, .timeout = std::chrono::seconds(60)});
}

void write(const fs::path& path, const std::string& content) { std::ofstream(path, std::ios::binary) << content; }

// A byte string that is valid UTF-8 and holds no character any reader takes as a line break or a
// terminal control: no C0 but \n (and \t), no DEL, no C1, no U+2028/U+2029.
std::string text_problem(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      if ((b < 0x20 && b != '\n' && b != '\t') || b == 0x7f) return "control byte " + std::to_string(b) + " at " + std::to_string(i);
      ++i;
      continue;
    }
    const int n = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b < 0xe0 ? 2 : 0;
    if (n == 0 || b > 0xf4 || i + n > s.size()) return "not UTF-8 at " + std::to_string(i);
    uint32_t cp = b & (0x7f >> n);
    for (int k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xc0) != 0x80) return "not UTF-8 at " + std::to_string(i);
      cp = (cp << 6) | (c & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) {
      return "not UTF-8 at " + std::to_string(i);
    }
    if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029) return "line separator or C1 control at " + std::to_string(i);
    i += n;
  }
  return "";
}

// The lines a line-based reader acts on: not blank, not a comment.
std::multiset<std::string> code_lines(const std::string& text, const std::string& comment_chars) {
  std::multiset<std::string> out;
  for (const auto& line : split_lines(text)) {
    const std::string t = trim(line);
    if (t.empty() || comment_chars.find(t[0]) != std::string::npos) continue;
    out.insert(line);
  }
  return out;
}

std::string comment_chars(const std::string& path) {
  // sysctl.d(5) and systemd.syntax(7) take # and ;, the others (sh, TuneD's inline prefix, env) #.
  if (path.ends_with(".conf") && path.starts_with("etc/sysctl.d")) return "#;";
  if (path.ends_with(".service") || path.ends_with(".timer") || path.ends_with(".link")) return "#;";
  return "#";
}

// TuneD's loader: ConfigParser(delimiters=('='), inline_comment_prefixes=('#'), strict=False),
// optionxform=str, read_file(open(file)), get(raw=True). One "section\toption\tvalue" per line.
std::string tuned_view(const fs::path& file) {
  const std::string py =
      "import configparser, sys\n"
      "c = configparser.ConfigParser(delimiters=('='), inline_comment_prefixes=('#'), strict=False)\n"
      "c.optionxform = str\n"
      "with open(sys.argv[1]) as f:\n"
      "    c.read_file(f, sys.argv[1])\n"
      "for s in c.sections():\n"
      "    for o in c.options(s):\n"
      "        print(repr((s, o, c.get(s, o, raw=True))))\n";
  auto r = run({"/usr/bin/python3", "-c", py, file.string()});
  INFO("python3 configparser (TuneD's settings) on " << file << ": " << r.brief() << "\n" << r.err);
  REQUIRE(r.ok());
  return r.out;
}

// What `set -a; . FILE` adds to an empty environment, one NAME=VALUE a line.
std::set<std::string> sourced_vars(const fs::path& file) {
  auto r = run({"env", "-i", "/bin/sh", "-c", "env | sort > \"$2\"; set -a; . \"$1\"; set +a; env | sort", "sh", file.string(),
                (file.string() + ".before")});
  INFO(r.brief() << "\n" << r.err);
  REQUIRE(r.ok());
  REQUIRE(r.err.empty());
  std::ifstream in(file.string() + ".before");
  std::set<std::string> before;
  for (std::string line; std::getline(in, line);) before.insert(line);
  std::set<std::string> added;
  for (const auto& line : split_lines(r.out)) {
    if (!before.count(line) && !line.starts_with("_=")) added.insert(line);
  }
  return added;
}

std::set<std::string> sysctl_dry_run(const fs::path& file) {
  auto r = run({"sysctl", "--dry-run", "-p", file.string()});
  INFO("sysctl --dry-run -p " << file << ": " << r.brief() << "\n" << r.out << r.err);
  REQUIRE(r.ok());
  auto lines = split_lines(r.out);
  return {lines.begin(), lines.end()};
}

// `systemd-analyze verify` on a unit whose ExecStart is pointed at an executable in `dir`.
void verify_unit(const TempDir& tmp, const ExportFile& unit) {
  if (find_executable("systemd-analyze").empty()) {
    WARN("systemd-analyze not installed: " << unit.path << " checked by its lines only");
    return;
  }
  std::string content = unit.content;
  const auto at = content.find("\nExecStart=");
  if (at != std::string::npos) {
    const auto end = content.find('\n', at + 1);
    content.replace(at, end - at, "\nExecStart=/bin/true");
  }
  const fs::path file = tmp.dir / fs::path(unit.path).filename();
  write(file, content);
  std::vector<std::string> argv{"systemd-analyze", "verify", file.string()};
  if (unit.path.ends_with(".timer")) {
    // verify wants the timer's service next to it.
    argv.push_back((tmp.dir / "wgopt-retune.service").string());
  }
  auto r = run(argv);
  INFO(r.out << r.err);
  CHECK(r.ok());
}

// Ansible's own YAML loader (ansible.parsing.yaml.loader, what ansible-playbook reads the role
// with): the data as JSON, each !unsafe string (never templated) shown as "<unsafe>". Profile text
// must reach the role only as such strings, so a hostile and a harmless profile give the same view.
std::string ansible_view(const fs::path& file) {
  const std::string py =
      "import sys, json\n"
      "from ansible.parsing.yaml.loader import AnsibleLoader\n"
      "from ansible.utils.unsafe_proxy import AnsibleUnsafe\n"
      "def walk(x):\n"
      "    if isinstance(x, AnsibleUnsafe): return '<unsafe>'\n"
      "    if isinstance(x, dict): return {str(k): walk(v) for k, v in x.items()}\n"
      "    if isinstance(x, list): return [walk(v) for v in x]\n"
      "    return x\n"
      "with open(sys.argv[1]) as f:\n"
      "    print(json.dumps(walk(AnsibleLoader(f.read()).get_single_data()), sort_keys=True))\n";
  auto r = run({"/usr/bin/python3", "-c", py, file.string()});
  INFO("Ansible's YAML loader on " << file << ": " << r.brief() << "\n" << r.err);
  REQUIRE(r.ok());
  return r.out;
}

// One hostile file against the same file from harmless text: see the file comment.
void check_file(const ExportFile& bad, const ExportFile& good, const TempDir& tmp) {
  INFO(bad.path);
  REQUIRE(bad.path == good.path);
  // --format ansible: the role's copies of the boot files are checked as the files they install.
  const std::string role_files = "roles/wgopt/files/";
  const std::string path = bad.path.starts_with(role_files) ? bad.path.substr(role_files.size()) : bad.path;
  CHECK(bad.mode == good.mode);
  if (path == "etc/wgopt/profile.yaml") {
    // The profile the role installs for `wgopt apply`/`retune` (copied, never templated): the
    // hostile text is its data and must come back whole; the knobs are the profile's.
    const auto b = act::parse_profile(bad.content, "bad"), g = act::parse_profile(good.content, "good");
    CHECK(b.knobs == g.knobs);
    CHECK(act::dump_profile(b) == bad.content);
    CHECK(b.evidence["study"].Scalar() != "x");
    return;
  }
  CHECK(text_problem(bad.content) == "");
  CHECK(bad.content.find('\r') == std::string::npos);
  CHECK(bad.content.find('\0') == std::string::npos);
  CHECK(bad.content.ends_with("\n"));
  if (path.ends_with(".yml")) {
    const fs::path b = tmp.dir / "bad.yml", g = tmp.dir / "good.yml";
    write(b, bad.content);
    write(g, good.content);
    CHECK(ansible_view(b) == ansible_view(g));
    CHECK_FALSE(fs::exists(kMark));
    return;
  }
  const std::string cc = comment_chars(path);
  auto bad_code = code_lines(bad.content, cc), good_code = code_lines(good.content, cc);
  if (path.ends_with("tuned.conf")) {
    // The one value built from free text: a summary of plain characters.
    std::string summary;
    for (const auto& l : bad_code) {
      if (l.starts_with("summary=")) summary = l;
    }
    CHECK(summary.starts_with("summary=wgopt profile from study x\\x0anet.core.somaxconn"));
    CHECK(summary.find_first_of("$%#;'\"`{}") == std::string::npos);
    std::erase_if(bad_code, [](const std::string& l) { return l.starts_with("summary="); });
    std::erase_if(good_code, [](const std::string& l) { return l.starts_with("summary="); });
  }
  CHECK(bad_code == good_code);

  const fs::path file = tmp.dir / fs::path(bad.path).filename();
  write(file, bad.content);
  const fs::path good_file = tmp.dir / ("good-" + fs::path(bad.path).filename().string());
  write(good_file, good.content);
  if (path.ends_with(".sh")) {
    auto r = run({"sh", "-n", file.string()});
    INFO(r.err);
    CHECK(r.ok());
    // Everything before `set -eu` is the header: run it, as boot would, and see nothing happen.
    const auto body = bad.content.find("\nset -eu\n");
    REQUIRE(body != std::string::npos);
    write(tmp.dir / "header.sh", bad.content.substr(0, body + 1));
    auto h = run({"sh", (tmp.dir / "header.sh").string()});
    CHECK(h.ok());
    CHECK(h.out.empty());
    CHECK(h.err.empty());
  } else if (path.starts_with("etc/sysctl.d/")) {
    CHECK(sysctl_dry_run(file) == sysctl_dry_run(good_file));
  } else if (path.ends_with("tuned.conf")) {
    auto bad_view = split_lines(tuned_view(file)), good_view = split_lines(tuned_view(good_file));
    std::erase_if(bad_view, [](const std::string& l) { return l.starts_with("('main', 'summary',"); });
    std::erase_if(good_view, [](const std::string& l) { return l.starts_with("('main', 'summary',"); });
    CHECK(bad_view == good_view);
  } else if (path.ends_with(".env")) {
    CHECK(sourced_vars(file) == std::set<std::string>{"NB_MTU=1420"});
  } else if (path.ends_with(".service") || path.ends_with(".timer")) {
    if (path.ends_with(".timer")) write(tmp.dir / "wgopt-retune.service", "[Service]\nType=oneshot\nExecStart=/bin/true\n");
    verify_unit(tmp, bad);
  }
  CHECK_FALSE(fs::exists(kMark));
}

void check_all(const std::vector<ExportFile>& bad, const std::vector<ExportFile>& good, const std::string& name) {
  REQUIRE(bad.size() == good.size());
  TempDir tmp(name);
  for (size_t i = 0; i < bad.size(); ++i) check_file(bad[i], good[i], tmp);
}

// A YAML double-quoted scalar holding `s` exactly.
std::string yaml_quoted(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto b = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') out += std::string("\\") + ch;
    else if (b < 0x20 || b == 0x7f) out += fmt::format("\\x{:02x}", b);
    else out += ch;
  }
  return out + "\"";
}

// One line, nothing a terminal would act on, naming `needle`.
void one_line_refusal(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    FAIL("not refused: " << needle);
  } catch (const UsageError& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK_THAT(what, Contains(needle));
    CHECK(what.find('\n') == std::string::npos);
    CHECK(text_problem(what) == "");
  }
}

}  // namespace

TEST_CASE("export hostile: the issue's three profiles give no command and no sysctl line", "[export][hostile]") {
  fs::remove(kMark);
  const std::string touch = "touch " + kMark;
  const std::string knobs = "knobs: {net.core.rmem_max: 212992, wt0/mtu: 1420, eth0/rps_cpus: \"1\"}\n";
  const std::vector<std::string> profiles = {
      "host: {sku: \"vm\\n" + touch + "\"}\n" + knobs,
      "evidence: {study: \"s\\n$(" + touch + ")\"}\n" + knobs,
      "evidence: {outcome: \"x\\nnet.core.somaxconn = 1\"}\n" + knobs,
  };
  for (const auto& text : profiles) {
    INFO(text);
    const auto bad = render_export(act::parse_profile(text, "p.yaml"), "all", labelled("p.yaml"));
    const auto good = render_export(act::parse_profile(knobs, "p.yaml"), "all", labelled("p.yaml"));
    for (const auto& f : bad) {
      INFO(f.path);
      const std::string cc = comment_chars(f.path);
      for (const auto& line : code_lines(f.content, cc)) {
        // TuneD's summary shows the study, encoded (test below); every other line is the profile's.
        if (line.starts_with("summary=")) CHECK(line.find_first_of("$`\n") == std::string::npos);
        else CHECK_THAT(line, !Contains("touch") && !Contains("somaxconn"));
      }
    }
    TempDir tmp("issue");
    for (size_t i = 0; i < bad.size(); ++i) {
      if (!bad[i].path.ends_with(".sh")) continue;
      write(tmp.dir / "s.sh", bad[i].content);
      // Run it whole: its interfaces do not exist here, so it stops at the check, after the header
      // (not waiting for them: WGOPT_TUNING_WAIT=0).
      auto r = run({"env", "WGOPT_TUNING_WAIT=0", "sh", (tmp.dir / "s.sh").string()});
      CHECK(r.exit_code == 1);
      CHECK_THAT(r.err, Contains("does not exist here"));
      CHECK(r.out.empty());
      CHECK(code_lines(bad[i].content, "#") == code_lines(good[i].content, "#"));
    }
  }
  CHECK_FALSE(fs::exists(kMark));
}

TEST_CASE("export hostile: every format, every free-text field, parsed as its consumer parses it", "[export][hostile]") {
  fs::remove(kMark);
  const std::string label = hostile_file_name();
  const ExportOptions good_o = labelled("p.yaml");
  const ExportOptions bad_o = labelled(label);
  for (const std::string& text : {payload(), payload_with_bad_utf8()}) {
    const auto bad = with_text(text), good = with_text("x");
    std::vector<std::string> formats = export_formats();
    formats.push_back("ansible");
    for (const auto& format : formats) {
      SECTION(format + (text.ends_with("end") ? " (bad UTF-8)" : "")) {
        check_all(render_export(bad, format, bad_o), render_export(good, format, good_o), format);
      }
    }
    SECTION(std::string("all") + (text.ends_with("end") ? " (bad UTF-8)" : "")) {
      check_all(render_export(bad, "all", bad_o), render_export(good, "all", good_o), "all");
    }
  }
  CHECK_FALSE(fs::exists(kMark));
}

TEST_CASE("export hostile: the header keeps one visible line per fact", "[export][hostile]") {
  const auto files = render_export(with_text("s\n$(id)\r\x01\x7f\xe2\x80\xa8\\"s + "\0"s + "z"), "sysctl", labelled("a\nb.yaml"));
  const std::string& c = files.at(0).content;
  CHECK_THAT(c, Contains("# Generated by `wgopt export` from profile a\\nb.yaml: re-export rather than edit.\n"));
  const std::string shown = "s\\n$(id)\\r\\x01\\x7f\\u2028\\\\\\x00z";
  CHECK_THAT(c, Contains("# Study " + shown + ", outcome " + shown + ", created " + shown + ".\n"));
  CHECK_THAT(c, Contains("# Captured: " + shown + ", 4 CPUs, kernel " + shown));
  CHECK_THAT(c, Contains("# Captured in netns wgopt-hostile: installed on a host, this file acts in its root namespace; in the "));  // a place, checked when read
}

// The timer's install line names the profile file in a shell command a reader may paste: a name
// with a space or $(...) is one quoted word there, never two words or a substitution.
TEST_CASE("export hostile: the profile's file name is one quoted word in the suggested install command", "[export][hostile]") {
  const auto plain = render_export(with_text("x"), "timer", labelled("best.yaml")).at(0).content;
  CHECK_THAT(plain, Contains("install -D -m 0644 best.yaml /etc/wgopt/profile.yaml"));
  const auto odd = render_export(with_text("x"), "timer", labelled("my best $(id).yaml")).at(0).content;
  CHECK_THAT(odd, Contains("install -D -m 0644 'my best $(id).yaml' /etc/wgopt/profile.yaml"));
  const auto quote = render_export(with_text("x"), "timer", labelled("it's.yaml")).at(0).content;
  CHECK_THAT(quote, Contains("install -D -m 0644 \"it's.yaml\" /etc/wgopt/profile.yaml"));
  const auto both = render_export(with_text("x"), "timer", labelled("it's $(id).yaml")).at(0).content;
  CHECK_THAT(both, Contains("install -D -m 0644 PROFILE.yaml /etc/wgopt/profile.yaml"));
}

TEST_CASE("export hostile: `wgopt export` of a hostile file, every format and all", "[export][hostile]") {
  fs::remove(kMark);
  TempDir tmp("cli");
  const std::string text = payload();
  const auto bad = with_text(text);
  // The profile as a file: every free-text value a YAML double-quoted string holding the payload.
  std::string yaml = "host:\n";
  for (const auto& kv : bad.host) yaml += "  " + kv.first.Scalar() + ": " + yaml_quoted(kv.second.as<std::string>()) + "\n";
  yaml += "knobs:\n";
  for (const auto& [id, v] : bad.knobs) yaml += "  " + id + ": " + yaml_quoted(v) + "\n";
  yaml += "evidence:\n";
  for (const auto& kv : bad.evidence) {
    if (kv.second.IsMap()) {
      yaml += "  " + kv.first.Scalar() + ":\n";
      for (const auto& leaf : kv.second) yaml += "    " + leaf.first.Scalar() + ": " + yaml_quoted(text) + "\n";
    } else {
      yaml += "  " + kv.first.Scalar() + ": " + yaml_quoted(text) + "\n";
    }
  }
  const fs::path path = tmp.dir / hostile_file_name();
  write(path, yaml);
  const auto parsed = act::load_profile(path.string());
  REQUIRE(parsed.host["sku"].Scalar() == text);  // the NUL and the rest survive the file
  REQUIRE(parsed.evidence["plant"]["testbed"].Scalar() == text);
  const auto good = with_text("x");

  std::vector<std::string> formats = export_formats();
  formats.push_back("all");
  formats.push_back("ansible");
  for (const auto& format : formats) {
    INFO(format);
    const fs::path out = tmp.dir / ("out-" + format);
    std::vector<std::string> argv{WGOPT_BINARY, "export", path.string(), "--format", format, "--out", out.string()};
    auto r = run(argv);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    const auto expected = render_export(good, format, labelled("p.yaml"));
    std::vector<ExportFile> written;
    for (const auto& f : expected) {
      REQUIRE(fs::exists(out / f.path));
      std::ifstream in(out / f.path, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      written.push_back({f.path, ss.str(), f.mode});
    }
    check_all(written, expected, "cli-" + format);
  }
  CHECK_FALSE(fs::exists(kMark));
}

TEST_CASE("export hostile: options that reach ExecStart, OnCalendar or an interface are refused in one line", "[export][hostile]") {
  const auto p = with_text("x");
  const std::vector<std::string> bad_paths = {"/etc/wgopt/p\n.yaml", "/etc/wgopt/p\r.yaml", "/etc/wgopt/p\0.yaml"s,
                                              "/etc/wgopt/%h.yaml",  "/etc/wgopt/$HOME",    "/etc/wgopt/${X}",
                                              "/etc/wgopt/a b",      "/etc/wgopt/a;b",      "/etc/wgopt/a'b",
                                              "/etc/wgopt/a\"b",     "/etc/wgopt/a\\b",     "/etc/wgopt/`id`",
                                              "etc/wgopt/p.yaml",    "/etc/\xe2\x80\xa8p",  ""};
  for (const auto& bad : bad_paths) {
    for (const auto& [option, field] : std::vector<std::pair<std::string, std::string ExportOptions::*>>{
             {"--profile-path", &ExportOptions::profile_path},
             {"--wgopt-path", &ExportOptions::wgopt_path},
             {"--metrics-path", &ExportOptions::metrics_path}}) {
      INFO(option << " " << bad);
      ExportOptions o = labelled("p.yaml");
      o.*field = bad;
      one_line_refusal([&] { render_export(p, "timer", o); }, option);
      one_line_refusal([&] { render_export(p, "all", o); }, option);
    }
  }
  for (const auto& bad : {"20m\n"s, "20m;"s, "$(id)"s, "%h"s, "20m\0"s, "20m 1h"s, "\r"s, "-5m"s, "30d"s, "0.5s"s}) {  // retune: 1s .. 7d
    INFO("--budget " << bad);
    ExportOptions o = labelled("p.yaml");
    o.budget = bad;
    one_line_refusal([&] { render_export(p, "timer", o); }, "--budget");
  }
  for (const auto& bad : {"*-*-* 03:30:00\nExecStartPre=/bin/true"s, "%h"s, "$X"s, "daily\0"s, "daily;x"s, "daily\r"s, "'daily'"s,
                          "daily\\"s}) {
    INFO("--on-calendar " << bad);
    ExportOptions o = labelled("p.yaml");
    o.on_calendar = bad;
    one_line_refusal([&] { render_export(p, "timer", o); }, "--on-calendar");
  }
  for (const auto& bad : {"eth0\n"s, "eth0;x"s, "$(id)"s, "eth0\0"s, "%h"s}) {
    INFO("--underlay " << bad);
    ExportOptions o = labelled("p.yaml");
    o.underlay = bad;
    one_line_refusal([&] { render_export(p, "networkd", o); }, "interface name");
    o.underlay.clear();
    o.wireguard = bad;
    one_line_refusal([&] { render_export(p, "netbird", o); }, "interface name");
  }
}

TEST_CASE("export hostile: a refusal naming the profile or a value stays one line", "[export][hostile]") {
  const std::string label = hostile_file_name();
  auto no_mtu = act::parse_profile("knobs: {net.core.rmem_max: 212992}\n", "p.yaml");
  one_line_refusal([&] { render_export(no_mtu, "netbird", labelled(label)); }, "has no MTU knob");
  one_line_refusal([&] { render_export(no_mtu, "networkd", labelled(label)); }, "has no interface knob");
  // parse_profile refuses such a value already (printable ASCII only); a Profile built in code can
  // still hold one, and the export refuses it on its own.
  act::Profile bad_value;
  bad_value.knobs = {{"net.core.rmem_max", std::string("1\r2\x1b\0", 5)}};
  one_line_refusal([&] { render_export(bad_value, "sysctl", labelled(label)); }, "knob net.core.rmem_max has value '1\\r2\\x1b\\x00'");
  auto unknown = act::parse_profile("knobs: {net.ipv4.ip_forward: 1}\n", "p.yaml");
  one_line_refusal([&] { render_export(unknown, "sysctl", labelled(label)); }, "unknown knob 'net.ipv4.ip_forward'");
}

TEST_CASE("export hostile: a huge fact is cut, so no line comes near systemd's 1 MB line limit", "[export][hostile]") {
  act::Profile p = with_text("x");
  p.host["sku"] = std::string(2 << 20, 'a');
  for (const auto& f : render_export(p, "all", labelled(std::string(5000, 'b')))) {
    INFO(f.path);
    for (const auto& line : split_lines(f.content)) CHECK(line.size() < 1000);
    CHECK_THAT(f.content, Contains("aaa... (2097152 bytes)") && Contains("bbb... (5000 bytes)"));
  }
}
