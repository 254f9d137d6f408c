#include "experiments/report/table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/error.hpp"
#include "common/util.hpp"
#include "experiments/report/svg.hpp"

namespace wgopt::experiments {

size_t display_width(const std::string& s) {
  // Continuation bytes (10xxxxxx) do not start a code point.
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

namespace {

// "812.4", "-3", "+12.5%", "1,024", "96%", "1.2e3": digits with at most sign, separators and a unit %.
bool looks_numeric(const std::string& s) {
  if (s.empty()) return false;
  size_t i = 0;
  if (s[i] == '+' || s[i] == '-') ++i;
  bool digit = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (std::isdigit(static_cast<unsigned char>(c))) digit = true;
    else if (c == '.' || c == ',' || c == 'e' || c == 'E') continue;
    else if (c == '%' && i + 1 == s.size()) continue;
    else return false;
  }
  return digit;
}

std::string pad(const std::string& s, size_t width, Align a) {
  size_t w = display_width(s);
  std::string fill(width > w ? width - w : 0, ' ');
  return a == Align::Right ? fill + s : s + fill;
}

std::string rstrip(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// And in Markdown, no HTML either (a renderer would run <img onerror=...> from a study's text).
std::string escape_markdown(const std::string& s) {
  std::string out;
  for (char c : plain_or_one_line(s)) {
    if (c == '|') out += "\\|";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

}  // namespace

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)), forced_(headers_.size()) {}

Table& Table::add_row(std::vector<std::string> cells) {
  if (cells.size() > headers_.size()) {
    throw Error(fmt::format("table row has {} cells but the table has {} columns", cells.size(), headers_.size()));
  }
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
  return *this;
}

Table& Table::align(size_t column, Align a) {
  if (column >= headers_.size()) {
    throw Error(fmt::format("table column {} does not exist (the table has {})", column, headers_.size()));
  }
  forced_[column] = a;
  return *this;
}

Align Table::effective_align(size_t column) const {
  if (forced_[column]) return *forced_[column];
  bool any = false;
  for (const auto& r : rows_) {
    const std::string& c = r[column];
    if (c.empty() || c == "-") continue;
    if (!looks_numeric(c)) return Align::Left;
    any = true;
  }
  return any ? Align::Right : Align::Left;
}

std::string Table::render_text() const {
  const size_t n = headers_.size();
  std::vector<size_t> width(n);
  std::vector<Align> al(n);
  for (size_t c = 0; c < n; ++c) {
    width[c] = display_width(plain_or_one_line(headers_[c]));
    for (const auto& r : rows_) width[c] = std::max(width[c], display_width(plain_or_one_line(r[c])));
    al[c] = effective_align(c);
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < n; ++c) {
      if (c) out += "  ";
      out += pad(plain_or_one_line(cells[c]), width[c], al[c]);
    }
    return rstrip(out) + "\n";
  };
  std::string out = line(headers_);
  std::string rule;
  for (size_t c = 0; c < n; ++c) {
    if (c) rule += "  ";
    rule += std::string(width[c], '-');
  }
  out += rule + "\n";
  for (const auto& r : rows_) out += line(r);
  return out;
}

std::string Table::render_markdown() const {
  const size_t n = headers_.size();
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = "|";
    for (size_t c = 0; c < n; ++c) {
      out += ' ';
      out += escape_markdown(cells[c]);
      out += " |";
    }
    return out + "\n";
  };
  std::string out = line(headers_);
  out += "|";
  for (size_t c = 0; c < n; ++c) out += effective_align(c) == Align::Right ? "---:|" : "---|";
  out += "\n";
  for (const auto& r : rows_) out += line(r);
  return out;
}

std::string Table::render_html(const std::string& id, const std::string& css_class) const {
  const size_t n = headers_.size();
  std::string out = "<table";
  if (!id.empty()) out += " id=\"" + svg::escape(id) + "\"";
  if (!css_class.empty()) out += " class=\"" + svg::escape(css_class) + "\"";
  out += "><thead><tr>";
  auto cell = [&](const char* tag, size_t c, const std::string& text) {
    const bool right = effective_align(c) == Align::Right;
    return fmt::format("<{}{}>{}</{}>", tag, right ? " class=\"num\"" : "", svg::escape(text), tag);
  };
  for (size_t c = 0; c < n; ++c) out += cell("th", c, headers_[c]);
  out += "</tr></thead><tbody>";
  for (const auto& r : rows_) {
    out += "<tr>";
    for (size_t c = 0; c < n; ++c) out += cell("td", c, c < r.size() ? r[c] : std::string());
    out += "</tr>";
  }
  return out + "</tbody></table>\n";
}

Table comparison_table(const std::vector<ComparisonRow>& rows, const std::string& window_label) {
  const bool udp = std::any_of(rows.begin(), rows.end(), [](const auto& r) { return r.udp_errors.value_or(0) > 0; });
  const bool score = std::any_of(rows.begin(), rows.end(), [](const auto& r) { return r.score.has_value(); });
  std::vector<std::string> headers = {"Config", "Throughput", "Top core %soft", "softnet drops/" + window_label,
                                      "NIC drops/" + window_label};
  if (udp) headers.push_back("UDP errors/" + window_label);
  if (score) headers.push_back("Score");
  Table t(headers);
  auto num = [](const std::optional<double>& v, const char* spec) {
    return v ? fmt::format(fmt::runtime(spec), *v) : std::string("-");
  };
  for (const auto& r : rows) {
    std::string soft = "-";
    if (r.top_core_soft_pct) {
      soft = fmt::format("{:.0f}%", *r.top_core_soft_pct);
      if (r.top_core) soft += fmt::format(" (cpu{})", *r.top_core);
    }
    std::vector<std::string> cells = {r.config, r.throughput_mbps ? fmt::format("{:.1f} Mbit/s", *r.throughput_mbps) : "-", soft,
                                      num(r.softnet_drops, "{:.0f}"), num(r.nic_drops, "{:.0f}")};
    if (udp) cells.push_back(num(r.udp_errors, "{:.0f}"));
    if (score) cells.push_back(num(r.score, "{:.1f}"));
    t.add_row(std::move(cells));
  }
  // Throughput and %soft carry units, so auto-detection would leave them left-aligned.
  for (size_t c = 1; c < headers.size(); ++c) t.align(c, Align::Right);
  return t;
}

}  // namespace wgopt::experiments
