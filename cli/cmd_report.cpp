// `wgopt report STUDY`: what a search found, from its study file alone (experiments/report_*.hpp).
// Read-only: the study is opened read-only, so a report on a study that a live search is writing
// changes nothing in it; the host is not touched at all.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "cli/registry.hpp"
#include "common/error.hpp"
#include "common/util.hpp"
#include "common/files.hpp"
#include "experiments/report/report_data.hpp"
#include "experiments/report/report_render.hpp"

namespace {

struct ReportOptions {
  std::string study;
  std::string html;
  bool markdown = false;
  bool json = false;
};

// Writes the page next to its final name and renames it, so a reader never sees half a report.
void write_file(const std::string& path, const std::string& text) {
  try {
    wgopt::write_file_atomic(path, text, 0644);
  } catch (const wgopt::Error& e) {
    throw wgopt::UsageError(fmt::format("cannot write the HTML report to '{}': {} (check that the directory exists and is writable)",
                                        path, e.what()));
  }
}

void run(const ReportOptions& o) {
  using namespace wgopt::experiments;
  if (o.markdown && o.json) throw wgopt::UsageError("--md and --json both print to stdout: pick one");
  if (o.html == "-" && (o.markdown || o.json)) throw wgopt::UsageError("--html - and --md/--json all print to stdout: pick one");
  // The page written over the study it reads (`--html s.sqlite`, or through a link): the study gone.
  std::error_code ec;
  if (!o.html.empty() && o.html != "-" && std::filesystem::equivalent(o.html, o.study, ec)) {
    throw wgopt::UsageError(fmt::format("--html '{}' is the study itself: name the page report.html", wgopt::one_line(o.html, 200)));
  }
  const ReportData d = load_report(o.study);
  if (o.html == "-") {  // as `apply -` reads stdin: the page on stdout, not a file named '-'
    const std::string page = render_report_html(d);
    std::fwrite(page.data(), 1, page.size(), stdout);
    return;
  }
  if (!o.html.empty()) {
    write_file(o.html, render_report_html(d));
    std::fprintf(stderr, "wrote the HTML report to %s\n", o.html.c_str());
  }
  std::string out;
  // A study's text is the study's: bytes that are not UTF-8 (a hand-edited note) are replaced, not an
  // internal error (found by an exploratory test).
  if (o.json) out = report_to_json(d).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  else if (o.markdown) out = render_report_markdown(d);
  else if (o.html.empty()) out = render_report_text(d);
  std::fwrite(out.data(), 1, out.size(), stdout);
}

void setup_report(CLI::App& root, wgopt::cli::Context&) {
  auto o = std::make_shared<ReportOptions>();
  auto* cmd = root.add_subcommand(
      "report",
      "Report on a study written by `wgopt search`: the field guide's §7.1 comparison table (config step x\n"
      "throughput x top core %soft x softnet drops x NIC drops, then the UDP receive errors when any were\n"
      "counted and the score, which charges the drops: a winner can score higher with less throughput and\n"
      "far fewer drops), the knobs that moved, the gain with its interval and p-value, and the trial list.\n"
      "--html adds plots (convergence by trial and by minutes, per-knob effect, per-core load before vs\n"
      "after) in one self-contained page (inline SVG, no scripts).\n"
      "The study is only read, so a study still being searched can be reported on; the report says so.\n\n"
      "Examples:\n"
      "  wgopt report /var/lib/wgopt/studies/study-20261126-101500.sqlite\n"
      "  wgopt report study.sqlite --html report.html      # open report.html in a browser\n"
      "  wgopt report study.sqlite --md > report.md\n"
      "  wgopt report study.sqlite --json | jq .gain");
  cmd->add_option("STUDY", o->study, "the study file (SQLite) written by wgopt search")->required();
  cmd->add_option("--html", o->html, "write a self-contained HTML report with plots to this file (- : to stdout; stdout then stays quiet unless --md or --json)");
  cmd->add_flag("--md", o->markdown, "print Markdown instead of plain text");
  cmd->add_flag("--json", o->json, "print the report's data as JSON (for scripts)");
  cmd->callback([o] { run(*o); });
}

}  // namespace

WGOPT_COMMAND(95, setup_report);
