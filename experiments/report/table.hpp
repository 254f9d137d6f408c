#pragma once
// Plain-text and Markdown tables for everything wgopt prints as a table: `baseline`, `search` and
// `report` all render the field guide's §7.1 comparison (config x throughput x top core %soft x
// drops) through this, so the layouts match.
//
//   Table t({"Config", "Throughput", "Top core %soft"});
//   t.add_row({"Defaults", "812.4 Mbit/s", "96% (cpu1)"});
//   std::cout << t.render_text();       // aligned columns, a rule under the header
//   std::cout << t.render_markdown();   // GitHub table, '|' in cells escaped
//
// Widths count UTF-8 code points, not bytes, so "→" or "±" do not break alignment. A column whose
// every non-empty body cell looks like a number ("812.4", "-3", "+12.5%", "96%") is right-aligned
// unless align() says otherwise.
#include <optional>
#include <string>
#include <vector>

namespace wgopt::experiments {

enum class Align { Left, Right };

class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // Appends a row. Throws wgopt::Error if it has more cells than there are headers; missing
  // trailing cells render empty.
  Table& add_row(std::vector<std::string> cells);
  // Forces a column's alignment (by index). Throws wgopt::Error for an index past the last column.
  Table& align(size_t column, Align a);

  size_t columns() const { return headers_.size(); }
  size_t rows() const { return rows_.size(); }

  // Columns separated by two spaces, a rule of '-' under the header, no trailing spaces, each line
  // ending in '\n'.
  std::string render_text() const;
  // | a | b |\n|---|--:|\n... with ':' marking right-aligned columns.
  std::string render_markdown() const;
  // <table id="ID" class="CLASS"><thead>..</thead><tbody>..</tbody></table>, every cell escaped,
  // right-aligned columns with class="num". Empty id / css_class leave the attribute out.
  std::string render_html(const std::string& id = "", const std::string& css_class = "") const;

 private:
  Align effective_align(size_t column) const;

  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::optional<Align>> forced_;
};

// Number of UTF-8 code points in s (the display width for the text we print).
size_t display_width(const std::string& s);

// One row of the field guide's §7.1 comparison table. Optional values render as "-".
struct ComparisonRow {
  std::string config;                          // "Defaults", "baseline", "winner (trial 17)"
  std::optional<double> throughput_mbps;       // Mbit/s
  std::optional<double> top_core_soft_pct;     // %soft of the hottest core
  std::optional<int> top_core;                 // which core that is
  std::optional<double> softnet_drops;         // softnet_stat column 2 over the window
  std::optional<double> nic_drops;             // NIC + interface drop counters over the window
  std::optional<double> udp_errors;            // Udp InErrors over the window (RcvbufErrors included)
  std::optional<double> score;                 // the objective's score: throughput minus its penalties
};

// The §7.1 table: Config | Throughput | Top core %soft | softnet drops/<window> | NIC drops/<window>,
// e.g. window_label "30s" gives "softnet drops/30s". Render it with render_text or render_markdown.
// Two columns follow when a row has them: "UDP errors/<window>" when some row counted any (a
// userspace WireGuard's socket overflowing: the drops the score charged on the testbed, which the
// §7.1 columns do not show), and "Score" when some row has one, so that a winner that scores
// higher with less throughput (fewer drops) reads as what the score measured.
Table comparison_table(const std::vector<ComparisonRow>& rows, const std::string& window_label);

}  // namespace wgopt::experiments
