#include "experiments/report/report_render.hpp"

#include <fmt/format.h>

#include <cmath>

#include "common/util.hpp"
#include "experiments/report/report_plots.hpp"
#include "experiments/report/svg.hpp"
#include "experiments/report/table.hpp"

namespace wgopt::experiments {

using nlohmann::json;

namespace {

std::string opt_num(const std::optional<double>& v, const char* spec = "{:.1f}") {
  return v ? fmt::format(fmt::runtime(spec), *v) : "-";
}

std::string with_ci(const std::optional<double>& mean, const std::optional<std::pair<double, double>>& ci) {
  if (!mean) return "-";
  std::string s = fmt::format("{:.1f}", *mean);
  if (ci) s += fmt::format(" (95% CI {:.1f} .. {:.1f})", ci->first, ci->second);
  return s;
}

std::string host_text(const json& host) {
  std::string s;
  if (!host.is_object()) return "-";
  for (const auto& [k, v] : host.items()) {
    if (v.is_object() || v.is_array()) continue;  // nested facts are in --json
    s += fmt::format("{}{}={}", s.empty() ? "" : ", ", k, v.is_string() ? v.get<std::string>() : v.dump());
  }
  return s.empty() ? "-" : s;
}

std::string gain_text(const json& g) {
  if (!g.is_object() || !g.contains("score") || !g["score"].is_number()) return "-";
  std::string s = fmt::format("{:+.1f} score", g["score"].get<double>());  // throughput minus penalties, not Mbit/s
  if (g.contains("relative") && g["relative"].is_number()) s += fmt::format(" ({:+.1f}%)", 100 * g["relative"].get<double>());
  if (g.contains("ci95") && g["ci95"].is_array() && g["ci95"].size() == 2 && g["ci95"][0].is_number()) {
    s += fmt::format(", 95% CI {:+.1f} .. {:+.1f}", g["ci95"][0].get<double>(), g["ci95"][1].get<double>());
  }
  if (g.contains("p_value") && g["p_value"].is_number()) s += fmt::format(", p = {:.3g}", g["p_value"].get<double>());
  if (g.contains("method") && g["method"].is_string()) s += " (" + g["method"].get<std::string>() + ")";
  return s;
}

// What a study left "running" by a search that died is.
std::string abandoned_text(const ReportData& d) {
  const auto& s = d.info.search;
  const auto r = s.is_object() ? s.find("retune") : s.end();
  const bool retune = r != s.end() && r->is_string() && !r->get<std::string>().empty();
  return fmt::format("no wgopt on this host is writing it: its search was killed or crashed (its guardian restores the host's "
                     "values, or the next wgopt at its start; `wgopt rollback` does it now); {}",
                     retune ? fmt::format("a retune is not resumed: run `wgopt retune {}` again", r->get<std::string>())
                            : fmt::format("`wgopt search --resume {}` continues it", d.study_path));
}

// The header as label/value pairs, in display order.
std::vector<std::pair<std::string, std::string>> header(const ReportData& d) {
  const auto& i = d.info;
  std::string budget = i.budget.empty() ? "" : i.budget;
  if (i.max_trials) budget += fmt::format("{}at most {} trials", budget.empty() ? "" : ", ", *i.max_trials);
  std::string status = i.status;
  if (d.running) {
    status += d.writer_pid ? fmt::format(" (wgopt pid {} is writing this study: what follows is what is recorded so far)", *d.writer_pid)
                           : " (a search may still be writing this study: what follows is what is recorded so far)";
  }
  if (d.abandoned) status += ", but " + abandoned_text(d);
  std::vector<std::pair<std::string, std::string>> h{
      {"study", d.study_path},
      {"created", i.created},
      {"status", status},
      {"host", host_text(i.host)},
      {"strategy", i.strategy},
      {"seed", std::to_string(i.seed)},
      {"budget", budget.empty() ? "-" : budget},
      {"trials", trial_count_text(d)},
      {"outcome", d.result ? to_string(d.result->outcome) : "none yet (no result recorded)"},
      {"baseline score", with_ci(d.baseline_mean, d.baseline_ci95) +
                             (d.baseline_score_source.empty() ? "" : ", from " + d.baseline_score_source)},
      {d.role(), d.winner_trial ? fmt::format("{} ({})", winner_label(d), d.winner_source) : "-"},
  };
  if (d.winner_mean) h.emplace_back(d.role() + " score", with_ci(d.winner_mean, d.winner_ci95));
  const std::string gain = gain_text(d.gain);
  h.emplace_back("gain", d.not_promoted && gain != "-" ? gain + "; the candidate's, not promoted: the profile keeps the host's values" : gain);
  h.emplace_back("profile", d.result && !d.result->profile_path.empty() ? d.result->profile_path : "-");
  return h;
}

// Knobs that moved; for a simplified winner with each change's estimated contribution, what a plant
// check measured of returning it, and whether the profile keeps it or it went back to the host's value.
Table moved_table(const ReportData& d) {
  if (!d.moved_explained) {
    Table t({"knob", "baseline", d.role()});
    for (const auto& m : d.moved) t.add_row({m.id, m.from, m.to});
    return t;
  }
  Table t({"knob", "baseline", d.role(), "contribution (model)", "95% interval", "returning it, measured", "in the profile"});
  for (const auto& m : d.moved) {
    t.add_row({m.id, m.from, m.to, m.contribution ? fmt::format("{:+.1f}", *m.contribution) : "unknown",
               m.ci95 ? fmt::format("{:+.1f} .. {:+.1f}", m.ci95->first, m.ci95->second) : "-", plant_check_text(m.check),
               m.returned ? "returned to the host's value" : kept_text(m.return_unchecked)});
  }
  return t;
}

std::string simplification_note(const ReportData& d) {
  if (d.not_promoted && !d.moved.empty()) {
    // Confirmed only when a confirmation ran: else the best trial (found by an exploratory test).
    const bool confirmed = d.winner_source.starts_with("the confirmed candidate");
    return std::string(" These are the ") + (confirmed ? "confirmed candidate's" : "best trial's") +
           " changes: it was not promoted, the profile carries none of them.";
  }
  return d.simplification.empty() ? "" : " Simplification: " + d.simplification + ".";
}

std::string moved_params(const ReportTrial& t) {
  std::string s;
  for (const auto& [id, v] : t.moved) s += fmt::format("{}{}={}", s.empty() ? "" : " ", id, v);
  return s;
}

Table trial_table(const ReportData& d) {
  Table t({"#", "state", "score", "throughput", "ended (min)", "params (vs baseline)", "note"});
  for (const auto& r : d.trials) {
    std::string mark = r.winner ? " *" : "";
    t.add_row({std::to_string(r.number) + mark, std::string(to_string(r.state)), opt_num(r.score),
               opt_num(r.throughput_mbps), fmt::format("{:.1f}", r.minutes), moved_params(r), r.note});
  }
  t.align(0, Align::Right).align(2, Align::Right).align(3, Align::Right).align(4, Align::Right);
  return t;
}

Table effect_table(const ReportData& d) {
  Table t({"knob", "value", "n", "mean score", "vs reference"});
  for (const auto& e : d.effects) {
    for (const auto& l : e.levels) {
      t.add_row({e.id, l.value, std::to_string(l.n), fmt::format("{:.1f}", l.mean), fmt::format("{:+.1f}", l.delta)});
    }
  }
  return t;
}

Table core_table(const ReportData& d) {
  Table t({"cpu", "baseline busy%", "baseline soft%", d.role() + " busy%", d.role() + " soft%"});
  std::map<int, std::pair<const CoreLoad*, const CoreLoad*>> by_cpu;
  for (const auto& l : d.cores_before) by_cpu[l.cpu].first = &l;
  for (const auto& l : d.cores_after) by_cpu[l.cpu].second = &l;
  auto busy = [](const CoreLoad* l) { return l ? fmt::format("{:.1f}", l->busy()) : "-"; };
  auto soft = [](const CoreLoad* l) { return l ? fmt::format("{:.1f}", l->soft) : "-"; };
  for (const auto& [cpu, p] : by_cpu) {
    t.add_row({fmt::format("cpu{}", cpu), busy(p.first), soft(p.first), busy(p.second), soft(p.second)});
  }
  return t;
}

std::string cores_caption(const ReportData& d) {
  return fmt::format("baseline: {}; {}: {}", d.cores_before_source.empty() ? "no data" : d.cores_before_source, d.role(),
                     d.cores_after_source.empty() ? "no data" : d.cores_after_source);
}

constexpr const char* kCss = R"css(
body{font-family:sans-serif;margin:24px auto;max-width:1240px;color:#222;background:#fff}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
dl#header{display:grid;grid-template-columns:max-content auto;gap:3px 16px;font-size:14px}
dt{font-weight:bold;color:#444}dd{margin:0;word-break:break-all}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f2f2f2}td.num,th.num{text-align:right}
.banner{padding:8px 12px;border-radius:4px;font-weight:bold}.running{background:#fff3cd;border:1px solid #e0c060}
.plots{display:flex;flex-wrap:wrap;gap:16px}.plots svg{border:1px solid #ddd}.note{color:#555;font-size:13px}
)css";

}  // namespace

std::string render_report_text(const ReportData& d) {
  std::string out = "wgopt report\n";
  if (d.running) {
    out += d.writer_pid ? fmt::format("NOTE: this study is still running (wgopt pid {} writes it): the report shows what is recorded so far.\n", *d.writer_pid)
                        : "NOTE: this study is still running (or its search died): the report shows what is recorded so far.\n";
  }
  if (d.abandoned) out += "NOTE: this study's search ended without finishing: " + abandoned_text(d) + ".\n";
  for (const auto& [k, v] : header(d)) out += fmt::format("{:<15} {}\n", k + ":", plain_or_one_line(v));
  out += fmt::format("\nComparison (field guide §7.1; drops per {} measurement):\n", d.window_label);
  out += comparison_table(d.table_rows, d.window_label).render_text();
  out += "\nKnobs that moved (baseline values from " + (d.baseline_source.empty() ? "nowhere: unknown" : d.baseline_source) + "):" +
         simplification_note(d) + "\n";
  out += d.moved.empty() ? "(none)\n" : moved_table(d).render_text();
  if (!d.support.empty()) out += d.support + "\n";
  out += "\nPer-knob effect (" + d.effect_method + "):\n";
  out += d.effects.empty() ? "(no complete trials)\n" : effect_table(d).render_text();
  out += "\nPer-core load (" + cores_caption(d) + "):\n";
  out += d.cores_before.empty() && d.cores_after.empty() ? "(no per-core data in this study)\n" : core_table(d).render_text();
  out += "\nTrials (" + trial_count_text(d) + "; * = winner; plots: --html FILE):\n";
  out += d.trials.empty() ? "(none)\n" : trial_table(d).render_text();
  return out;
}

std::string render_report_markdown(const ReportData& d) {
  std::string out = "# wgopt report\n\n";
  if (d.running) out += "> **This study is still running**: the report shows what is recorded so far.\n\n";
  if (d.abandoned) out += "> **This study's search ended without finishing**: " + abandoned_text(d) + ".\n\n";
  Table h({"", ""});
  for (const auto& [k, v] : header(d)) h.add_row({k, v});
  out += h.render_markdown();
  out += fmt::format("\n## Comparison (field guide §7.1; drops per {} measurement)\n\n", d.window_label);
  out += comparison_table(d.table_rows, d.window_label).render_markdown();
  out += "\n## Knobs that moved\n\nBaseline values from " + (d.baseline_source.empty() ? "nowhere (unknown)" : d.baseline_source) + "." +
         simplification_note(d) + "\n\n";
  out += d.moved.empty() ? "(none)\n" : moved_table(d).render_markdown();
  if (!d.support.empty()) out += "\n" + d.support + "\n";
  out += "\n## Per-knob effect\n\n" + d.effect_method + "\n\n";
  out += d.effects.empty() ? "(no complete trials)\n" : effect_table(d).render_markdown();
  out += "\n## Per-core load\n\n" + cores_caption(d) + "\n\n";
  out += d.cores_before.empty() && d.cores_after.empty() ? "(no per-core data in this study)\n" : core_table(d).render_markdown();
  out += "\n## Trials\n\n" + trial_count_text(d) + " (\\* = winner; the plots are in `wgopt report --html FILE`)\n\n";
  out += d.trials.empty() ? "(none)\n" : trial_table(d).render_markdown();
  return out;
}

std::string render_report_html(const ReportData& d) {
  using svg::escape;
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  out += "<title>wgopt report: " + escape(d.study_path) + "</title><style>" + kCss + "</style></head><body>\n";
  out += "<h1>wgopt report</h1>\n";
  if (d.running) {
    out += "<p id=\"status-running\" class=\"banner running\">This study is still running (or its search died without "
           "finishing): the report shows what is recorded so far.</p>\n";
  }
  if (d.abandoned) {
    out += "<p id=\"status-abandoned\" class=\"banner running\">This study's search ended without finishing: " + escape(abandoned_text(d)) +
           ".</p>\n";
  }
  out += "<dl id=\"header\">";
  for (const auto& [k, v] : header(d)) out += "<dt>" + escape(k) + "</dt><dd>" + escape(v) + "</dd>";
  out += "</dl>\n";
  out += "<h2>Comparison (field guide §7.1)</h2><p class=\"note\">Drops per " + escape(d.window_label) +
         " measurement; throughput is the mean over the objective's scenarios.</p>\n";
  out += comparison_table(d.table_rows, d.window_label).render_html("comparison-table", "comparison");
  out += "<h2>Knobs that moved</h2><p class=\"note\">Baseline values from " +
         escape(d.baseline_source.empty() ? "nowhere (unknown)" : d.baseline_source) + "." + escape(simplification_note(d)) + "</p>\n";
  out += d.moved.empty() ? "<p id=\"moved-knobs\">(none)</p>\n" : moved_table(d).render_html("moved-knobs");
  if (!d.support.empty()) out += "<p id=\"support\" class=\"note\">" + escape(d.support) + "</p>\n";
  out += "<h2>Convergence</h2><div class=\"plots\">" + convergence_svg(d, ConvergenceAxis::Trial) +
         convergence_svg(d, ConvergenceAxis::Minutes) + "</div>\n";
  out += "<h2>Per-knob effect</h2><p class=\"note\">" + escape(d.effect_method) + "</p><div class=\"plots\">" +
         knob_effect_svg(d) + "</div>\n";
  out += "<h2>Per-core load</h2><p class=\"note\">busy = usr + sys + soft; the darker part is soft. " +
         escape(cores_caption(d)) + ".</p><div class=\"plots\">" + core_load_svg(d) + "</div>\n";
  out += "<h2>Trials</h2><p id=\"trial-count\">" + escape(trial_count_text(d)) + "</p><p class=\"note\">* = winner</p>\n";
  out += trial_table(d).render_html("trial-list");
  out += "</body></html>\n";
  return out;
}

json report_to_json(const ReportData& d) {
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  auto ci = [](const std::optional<std::pair<double, double>>& v) { return v ? json{v->first, v->second} : json(nullptr); };
  json j;
  j["study"] = d.study_path;
  j["info"] = {{"created", d.info.created}, {"host", d.info.host},         {"strategy", d.info.strategy},
               {"seed", d.info.seed},       {"budget", d.info.budget},     {"status", d.info.status},
               {"max_trials", d.info.max_trials ? json(*d.info.max_trials) : json(nullptr)}};
  j["running"] = d.running;
  j["abandoned"] = d.abandoned;
  j["writer_pid"] = d.writer_pid ? json(*d.writer_pid) : json(nullptr);
  j["result"] = d.result ? json{{"outcome", to_string(d.result->outcome)},
                                {"winner_trial", d.result->winner_trial ? json(*d.result->winner_trial) : json(nullptr)},
                                {"params", d.result->params},
                                {"evidence", d.result->evidence},
                                {"profile_path", d.result->profile_path}}
                         : json(nullptr);
  j["baseline"] = {{"rounds", d.rounds_baseline}, {"score", opt(d.baseline_mean)}, {"ci95", ci(d.baseline_ci95)},
                   {"score_from", d.baseline_score_source},
                   {"values", d.baseline_values}, {"values_from", d.baseline_source}};
  j["winner"] = {{"trial", d.winner_trial ? json(*d.winner_trial) : json(nullptr)}, {"from", d.winner_source}, {"role", d.role()},
                 {"promoted", d.result ? json(!d.not_promoted) : json(nullptr)},
                 {"score", opt(d.winner_mean)}, {"ci95", ci(d.winner_ci95)}};
  j["gain"] = d.gain;
  j["window"] = d.window_label;
  j["table"] = json::array();
  for (const auto& r : d.table_rows) {
    j["table"].push_back({{"config", r.config}, {"throughput_mbps", opt(r.throughput_mbps)},
                          {"top_core_soft_pct", opt(r.top_core_soft_pct)},
                          {"top_core", r.top_core ? json(*r.top_core) : json(nullptr)},
                          {"softnet_drops", opt(r.softnet_drops)}, {"nic_drops", opt(r.nic_drops)},
                          {"udp_errors", opt(r.udp_errors)}, {"score", opt(r.score)}});
  }
  j["moved"] = json::array();
  for (const auto& m : d.moved) {
    json k = {{"id", m.id}, {"from", m.from}, {"to", m.to}};
    if (d.moved_explained) {
      k["contribution"] = m.contribution ? json(*m.contribution) : json(nullptr);
      k["ci95"] = m.ci95 ? json{m.ci95->first, m.ci95->second} : json(nullptr);
      k["returned"] = m.returned;
      k["return_unchecked"] = m.return_unchecked;
      k["check"] = m.check ? to_json(*m.check) : json(nullptr);
      k["support"] = m.support ? json(to_string(*m.support)) : json(nullptr);
    }
    j["moved"].push_back(k);
  }
  if (!d.simplification.empty()) j["simplification"] = d.simplification;
  if (!d.support.empty()) j["support"] = d.support;
  j["trials"] = json::array();
  for (const auto& t : d.trials) {
    j["trials"].push_back({{"number", t.number}, {"state", std::string(to_string(t.state))}, {"score", opt(t.score)},
                           {"throughput_mbps", opt(t.throughput_mbps)}, {"minutes", t.minutes}, {"params", t.params},
                           {"moved", t.moved}, {"note", t.note}, {"winner", t.winner}, {"best_so_far", t.best_so_far}});
  }
  j["trial_counts"] = d.state_counts;
  j["effects"] = {{"method", d.effect_method}, {"knobs", json::array()}};
  for (const auto& e : d.effects) {
    json levels = json::array();
    for (const auto& l : e.levels) levels.push_back({{"value", l.value}, {"n", l.n}, {"mean", l.mean}, {"delta", l.delta}});
    j["effects"]["knobs"].push_back({{"id", e.id}, {"spread", e.spread}, {"levels", levels}});
  }
  auto cores = [](const std::vector<CoreLoad>& v) {
    json a = json::array();
    for (const auto& c : v) a.push_back({{"cpu", c.cpu}, {"usr", c.usr}, {"sys", c.sys}, {"soft", c.soft}, {"busy", c.busy()}});
    return a;
  };
  j["cores"] = {{"before", cores(d.cores_before)}, {"before_from", d.cores_before_source},
                {"after", cores(d.cores_after)}, {"after_from", d.cores_after_source}};
  return j;
}

}  // namespace wgopt::experiments
