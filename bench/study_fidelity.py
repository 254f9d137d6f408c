#!/usr/bin/python3
"""How much a shorter measurement loses: from stored search studies (bench_search --keep-studies),
the run-to-run standard deviation of one configuration's mean rate over seconds 1..k-1 of its runs
(k = 5, 7, 10), pooled over every configuration measured at least twice (the baseline rounds, each
confirmation arm, a trial's re-measurements). If a 5-second mean varies between runs about as much
as a 10-second one, the run-to-run variation, not the length, limits a measurement's precision.
A second table replays each study's complete trials: how the mean over seconds 1-4 ranks them
against the mean over seconds 1-9 of the same runs, and how far below it the shorter mean falls
(a configuration still ramping up). A third table reads studies searched with screening (trials
that record their `duration_s`): every configuration the search measured both at the screening
length and at full length (a top candidate's re-measurement), in separate runs, and how the
screened score compares with the full one. A fourth reads the confirmation's arms: the share of their
9-second rate that seconds 1-4 read, baseline against winner (the half-length check's ramp caveat).

    /usr/bin/python3 bench/study_fidelity.py DIR/*.sqlite      # prints a markdown table
"""
import json
import math
import sqlite3
import statistics as st
import sys

LENGTHS = (5, 7, 10)


def groups_of(path):
    c = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    groups, within = {}, []
    for (m,) in c.execute("select metrics_json from baseline"):
        groups.setdefault("baseline", []).append(json.loads(m)["scenarios"]["tcp"])
    for arm, trial, m in c.execute("select arm, trial, metrics_json from confirmation"):
        groups.setdefault((arm, trial), []).append(json.loads(m)["scenarios"]["tcp"])
    for state, m, params in c.execute("select state, metrics_json, params_json from trials"):
        if state != "complete":
            continue
        s = json.loads(m)["scenarios"]["tcp"]
        groups.setdefault(params, []).append(s)
        if len(s.get("series_mbps", [])) >= 10:
            within.append(st.stdev(s["series_mbps"][1:]))
    return groups, within


def pooled(groups, k):
    var, df = 0.0, 0
    for runs in groups.values():
        means = [st.mean(s["series_mbps"][1:k]) for s in runs if len(s.get("series_mbps", [])) >= 10]
        if len(means) >= 2:
            var += st.variance(means) * (len(means) - 1)
            df += len(means) - 1
    return var, df


def ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0] * len(values)
    for rank, i in enumerate(order):
        out[i] = rank
    return out


def short_against_full(paths):
    print()
    print("| study | complete trials | Spearman, s 1-4 ~ s 1-9 | median (s 1-4) / (s 1-9) - 1 | lowest |")
    print("|---|---|---|---|---|")
    every = []
    for path in paths:
        c = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        short, full = [], []
        for state, m in c.execute("select state, metrics_json from trials"):
            if state != "complete":  # a failed or infeasible trial has no scenarios
                continue
            x = json.loads(m)["scenarios"]["tcp"].get("series_mbps", [])
            if len(x) >= 10:
                short.append(st.mean(x[1:5]))
                full.append(st.mean(x[1:10]))
        if len(full) < 3:
            continue
        rel = [a / b - 1 for a, b in zip(short, full)]
        every += rel
        print("| %s | %d | %.2f | %+.3f | %+.3f |" % (path, len(full), st.correlation(ranks(short), ranks(full)),
                                                       st.median(rel), min(rel)))
    if every:
        every.sort()
        print("| all | %d | | %+.3f | 5th percentile %+.3f |" % (len(every), st.median(every), every[len(every) // 20]))


def screened_against_full(paths):
    rows = []
    for path in paths:
        c = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        by_config = {}
        for state, score, m, params in c.execute("select state, score, metrics_json, params_json from trials"):
            d = json.loads(m).get("duration_s")
            if state == "complete" and d is not None and score is not None:
                by_config.setdefault(params, {}).setdefault(d, []).append(score)
        pairs = []
        for runs in by_config.values():
            if len(runs) == 2:
                short, full = sorted(runs)
                pairs.append(st.mean(runs[short]) / st.mean(runs[full]) - 1)
        if pairs:
            rows.append((path, pairs))
    if not rows:
        return
    print()
    print("| study | configurations screened and re-measured fully | median screened / full - 1 | range |")
    print("|---|---|---|---|")
    for path, pairs in rows:
        print("| %s | %d | %+.3f | %+.3f .. %+.3f |" % (path, len(pairs), st.median(pairs), min(pairs), max(pairs)))


def window_ratio(series):
    return st.mean(series[1:5]) / st.mean(series[1:10])


def ramp_of_confirmation(paths):
    """The half-length check's ramp caveat: each confirmation arm's mean (s 1-4) / (s 1-9) over its
    full-length rounds, and baseline minus winner: the poor start against the winner is the widest
    contrast a study holds, a check's two arms differ in one to three knobs."""
    rows = []
    for path in paths:
        c = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        arms = {}
        for arm, m in c.execute("select arm, metrics_json from confirmation"):
            x = json.loads(m)["scenarios"]["tcp"].get("series_mbps", [])
            if len(x) >= 10:
                arms.setdefault(arm, []).append(window_ratio(x))
        if len(arms.get("baseline", [])) >= 2 and len(arms.get("candidate", [])) >= 2:
            rows.append((path, arms["baseline"], arms["candidate"]))
    if not rows:
        return
    print()
    print("| study | baseline (s 1-4) / (s 1-9) | winner | baseline - winner |")
    print("|---|---|---|---|")
    diffs = []
    for path, base, cand in rows:
        d = st.mean(base) - st.mean(cand)
        diffs.append(d)
        print("| %s | %.3f (%d) | %.3f (%d) | %+.3f |" % (path, st.mean(base), len(base), st.mean(cand), len(cand), d))
    se = st.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) >= 2 else float("nan")
    print("| mean of %d | | | %+.3f (standard error %.3f) |" % (len(diffs), st.mean(diffs), se))


def main(paths):
    print("| study | df | between-run sd, s 1-4 | s 1-6 | s 1-9 | ratio 1-4 / 1-9 | per-second sd in a run |")
    print("|---|---|---|---|---|---|---|")
    total = {k: [0.0, 0] for k in LENGTHS}
    for path in paths:
        groups, within = groups_of(path)
        sd = {}
        for k in LENGTHS:
            var, df = pooled(groups, k)
            total[k][0] += var
            total[k][1] += df
            sd[k] = (math.sqrt(var / df) if df else float("nan"), df)
        print("| %s | %d | %.1f | %.1f | %.1f | %.2f | %.1f |" % (path, sd[10][1], sd[5][0], sd[7][0], sd[10][0],
              sd[5][0] / sd[10][0], st.median(within) if within else float("nan")))
    p = {k: math.sqrt(v / d) for k, (v, d) in total.items() if d}
    if len(p) == len(LENGTHS):
        print("| pooled | %d | %.1f | %.1f | %.1f | %.2f | |" % (total[10][1], p[5], p[7], p[10], p[5] / p[10]))
    short_against_full(paths)
    screened_against_full(paths)
    ramp_of_confirmation(paths)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: study_fidelity.py STUDY.sqlite...: give the studies bench_search --keep-studies copied out")
    main(sys.argv[1:])
