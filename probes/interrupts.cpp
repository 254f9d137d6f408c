#include "probes/interrupts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <regex>

#include "common/util.hpp"
#include "probes/parse_util.hpp"

namespace wgopt::probes {

const char* to_string(IrqClass c) {
  switch (c) {
    case IrqClass::DataRx: return "data-rx";
    case IrqClass::DataTx: return "data-tx";
    case IrqClass::DataRxTx: return "data-rxtx";
    case IrqClass::Control: return "control";
    case IrqClass::Other: return "other";
  }
  return "other";
}

IrqClass classify_irq_action(const std::string& action_in) {
  // Only the first action of a shared line, without the "@pci:BDF" suffix mlx5/ena/gve append.
  std::string a = action_in.substr(0, action_in.find(','));
  a = a.substr(0, a.find('@'));
  static const std::regex control(
      R"(^(mlx5_(async|pages|cmd|ctrl|ctl)\w*|virtio\d+-config|.*[-_:](mgmnt|mgmt|misc|lsc|adminq|async|hwc|ctrl)\d*)$)",
      std::regex::icase);
  static const std::regex rxtx(
      R"(^(mlx5_comp\d+|mlx4-\d+.*|ena-comp-\d+|gve-ntfy-blk\d+|mana_q\d+|.*-(txrx|rxtx|combined|fp)-\d+|hinic_q\d+|nfp-\d+.*|qede.*-fp-\d+)$)",
      std::regex::icase);
  // virtio-net queues always carry ".N"; "virtio3-rx" (vsock) and "virtio4-input" (input device) do not.
  static const std::regex rx(R"(^(virtio\d+-input\.\d+|.*-rx-\d+)$)", std::regex::icase);
  static const std::regex tx(R"(^(virtio\d+-output\.\d+|.*-tx-\d+)$)", std::regex::icase);
  // Kernel IRQ names are short (a driver's name and a queue number). std::regex recurses once per
  // character, so a name of some ten thousand characters (no kernel prints one) overflowed the stack.
  if (a.empty() || a.size() > 256) return IrqClass::Other;
  if (std::regex_match(a, control)) return IrqClass::Control;
  if (std::regex_match(a, rxtx)) return IrqClass::DataRxTx;
  if (std::regex_match(a, rx)) return IrqClass::DataRx;
  if (std::regex_match(a, tx)) return IrqClass::DataTx;
  return IrqClass::Other;
}

uint64_t IrqLine::total() const {
  uint64_t s = 0;
  for (auto v : per_cpu) s += v;
  return s;
}

const IrqLine* Interrupts::find(const std::string& id) const {
  for (const auto& l : irqs)
    if (l.id == id) return &l;
  return nullptr;
}

namespace {
std::string join(const std::vector<std::string>& t, size_t from, size_t to) {
  std::string s;
  for (size_t i = from; i < to; ++i) {
    if (!s.empty()) s += ' ';
    s += t[i];
  }
  return s;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// x86's hwirq-trigger token, "1-edge": digits, '-', then [A-Za-z0-9_]+. By hand, not std::regex, which
// recurses once per character of the token and overflowed the stack on a long one.
bool is_x86_trigger(const std::string& t) {
  const size_t dash = t.find_first_not_of("0123456789");
  if (dash == 0 || dash == std::string::npos || t[dash] != '-' || dash + 1 == t.size()) return false;
  return std::all_of(t.begin() + static_cast<std::ptrdiff_t>(dash) + 1, t.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

// The kernel prints " %8s" chip, " %*lu" hwirq, then either "-%-8s" (x86: "1-edge") or " Level"/
// " Edge" (GENERIC_IRQ_SHOW_LEVEL: ARM), then "  action". The trigger token anchors the split.
void split_descriptor(const std::vector<std::string>& t, size_t from, IrqLine& line) {
  for (size_t i = from; i < t.size(); ++i) {
    if (is_x86_trigger(t[i])) {
      line.chip = join(t, from, i);
      line.hwirq = t[i];
      line.action = join(t, i + 1, t.size());
      return;
    }
    if ((t[i] == "Level" || t[i] == "Edge") && i > from) {
      size_t hw_from = (i - 1 > from && all_digits(t[i - 1])) ? i - 1 : i;
      line.chip = join(t, from, hw_from);
      line.hwirq = join(t, hw_from, i + 1);
      line.action = join(t, i + 1, t.size());
      return;
    }
  }
  // No trigger (chips without a domain): chip, then the action.
  if (from < t.size()) line.chip = t[from];
  line.action = join(t, from + 1, t.size());
}
}  // namespace

Interrupts parse_interrupts(const std::string& text, const std::string& source) {
  Interrupts out;
  const auto lines = split_lines(text);
  size_t i = 0;
  out.cpus = detail::parse_cpu_header(lines, source, i);
  if (out.cpus.empty()) detail::malformed(source, i + 1, "header names no CPU");
  for (++i; i < lines.size(); ++i) {
    // Blank by split_ws's measure (isspace: a line of only '\v' or '\f' too), not trim's.
    const auto t = split_ws(lines[i]);
    if (t.empty()) continue;
    if (!t[0].ends_with(':') || t[0].size() < 2)
      detail::malformed(source, i + 1, fmt::format("'{}' is not an 'IRQ:' label", t[0]));
    IrqLine line;
    line.id = t[0].substr(0, t[0].size() - 1);
    line.numbered = all_digits(line.id);
    size_t k = 1;
    while (k < t.size() && line.per_cpu.size() < out.cpus.size()) {
      auto v = detail::parse_u64(t[k]);
      if (!v) break;
      line.per_cpu.push_back(*v);
      ++k;
    }
    if (line.per_cpu.empty()) detail::malformed(source, i + 1, fmt::format("IRQ {} has no counts", line.id));
    // Numbered IRQs print every CPU column; ERR/MIS print one value.
    if (line.numbered && line.per_cpu.size() != out.cpus.size())
      detail::malformed(source, i + 1,
                        fmt::format("IRQ {} has {} counts for {} CPUs", line.id, line.per_cpu.size(), out.cpus.size()));
    if (line.numbered) {
      split_descriptor(t, k, line);
      line.cls = classify_irq_action(line.action);
    } else {
      line.action = join(t, k, t.size());
    }
    out.irqs.push_back(std::move(line));
  }
  return out;
}

}  // namespace wgopt::probes
