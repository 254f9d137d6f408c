#!/usr/bin/python3
"""Optuna 3.1 (Debian python3-optuna) on the wgopt benchmark problems, same metric as bench_optimizer.

For every (problem, noise, sampler, seed) one study of max(--trials) trials runs; the recommendation
at n is Optuna's best_trial among the first n trials (what a user of Optuna would deploy), re-evaluated
without noise. Regret = f(recommended) - f*. False promotion at n: the recommendation is worse than
the best configuration evaluated so far (noise-free) by more than 2% of |f*|. Seed s seeds the sampler
and the noise stream (numpy RandomState(s), one normal draw per trial).

  /usr/bin/python3 bench/optuna/run_optuna.py --seeds 30 --processes 2 --raw bench/results/optuna_raw.jsonl
  /usr/bin/python3 bench/optuna/run_optuna.py --table-from bench/results/optuna_raw.jsonl --markdown

Output: a table on stdout (the same columns as bench_optimizer); one JSON line per study in --raw.
"""
import argparse
import json
import math
import multiprocessing
import statistics
import sys
import time
import warnings

import numpy as np
import optuna

import problems

SAMPLERS = ["tpe", "tpe_mv", "random"]
DEFAULT_PROBLEMS = ["branin", "hartmann6", "mixed_hartmann6", "wg_sim",
                    "wg_host2", "wg_host4", "wg_host8", "wg_host16"]


def make_sampler(name, seed):
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "tpe_mv":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError("unknown sampler '%s' (use one of %s)" % (name, ", ".join(SAMPLERS)))


def true_value(problem, params):
    """Noise-free f; a failed configuration counts as zero throughput (f = 0) on wg_sim."""
    f = problems.PROBLEMS[problem][0](params)
    return 0.0 if f is None else f


def run_study(job):
    problem, noise, sampler_name, seed, checkpoints = job
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")
    fn, fstar = problems.PROBLEMS[problem]
    sd = problems.noise_sd(problem, noise)
    rng = np.random.RandomState(seed)

    kind = problems.noise_kind(problem)

    def objective(trial):
        params = problems.suggest(trial, problem)
        f = fn(params)
        # drawn for every trial so the stream follows the trial index
        y = problems.noisy(kind, 0.0 if f is None else f, sd, rng)
        if f is None:
            return float("nan")      # Optuna marks the trial FAIL and carries on
        return y

    study = optuna.create_study(direction="minimize", sampler=make_sampler(sampler_name, seed))
    if problem == "wg_sim":
        study.enqueue_trial(problems.WG_START)
    elif problem in problems.HOSTS:
        study.enqueue_trial(problems.host_start(problem))
    started = time.perf_counter()
    study.optimize(objective, n_trials=max(checkpoints))
    elapsed = time.perf_counter() - started
    trials = study.trials
    out = {"problem": problem, "noise": noise, "strategy": "optuna_" + sampler_name, "seed": seed,
           "seconds": elapsed, "at": {}}
    for n in checkpoints:
        done = [t for t in trials[:n] if t.state == optuna.trial.TrialState.COMPLETE]
        failed = sum(1 for t in trials[:n] if t.state == optuna.trial.TrialState.FAIL)
        if done:
            rec = min(done, key=lambda t: t.value)
            f_rec = true_value(problem, problems.from_optuna_params(problem, rec.params))
            f_best = min(true_value(problem, problems.from_optuna_params(problem, t.params)) for t in done)
        else:
            f_rec = f_best = 0.0 if problem == "wg_sim" or problem in problems.HOSTS else float("nan")
        out["at"][str(n)] = {"regret": f_rec - fstar, "gap": f_rec - f_best, "failed": failed}
    return out


def median(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return statistics.median(xs) if xs else float("nan")


def fmt(x):
    if math.isnan(x):
        return "-"
    return "%.3g" % x


def print_table(rows, checkpoints, markdown):
    """rows: result dicts. One line per (problem, noise, strategy), in first-seen order."""
    groups = {}
    for r in rows:
        groups.setdefault((r["problem"], r["noise"], r["strategy"]), []).append(r)
    n_last = str(max(checkpoints))
    header = (["problem", "noise %", "strategy"] + ["regret n=%d" % n for n in checkpoints]
              + ["false promo n=%s" % n_last, "failed trials %", "seeds", "s/run"])
    lines = []
    for (problem, noise, strategy), rs in groups.items():
        fstar = problems.PROBLEMS[problem][1]
        cells = [problem, str(noise), strategy]
        cells += [fmt(median([r["at"][str(n)]["regret"] for r in rs])) for n in checkpoints]
        promo = [r["at"][n_last]["gap"] > 0.02 * abs(fstar) for r in rs]
        cells.append("%.2f" % (sum(promo) / len(promo)))
        cells.append("%.1f" % (100.0 * sum(r["at"][n_last]["failed"] for r in rs) / (len(rs) * int(n_last))))
        cells.append(str(len(rs)))
        cells.append("%.1f" % statistics.mean(r["seconds"] for r in rs))
        lines.append(cells)
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for c in lines:
            print("| " + " | ".join(c) + " |")
    else:
        widths = [max(len(h), *(len(c[i]) for c in lines)) if lines else len(h) for i, h in enumerate(header)]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        for c in lines:
            print("  ".join(x.ljust(w) for x, w in zip(c, widths)))


def time_per_suggestion(sampler_name, dims, observations, asks=5):
    """Mean seconds per ask() after `observations` told trials of a d-dim shifted quadratic."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")
    study = optuna.create_study(direction="minimize", sampler=make_sampler(sampler_name, 0))
    rng = np.random.RandomState(0)
    dist = {"x%d" % i: optuna.distributions.FloatDistribution(0.0, 1.0) for i in range(dims)}
    for _ in range(observations):
        params = {k: float(rng.uniform()) for k in dist}
        value = sum((v - 0.3) ** 2 for v in params.values())
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dist, value=value))
    started = time.perf_counter()
    for _ in range(asks):
        trial = study.ask(dist)
        study.tell(trial, sum((trial.params[k] - 0.3) ** 2 for k in dist))
    return (time.perf_counter() - started) / asks


def check_reference(path):
    """Compares problems.py with `bench_optimizer --reference-points` output; returns mismatches."""
    bad = 0
    with open(path) as f:
        for line in f:
            ref = json.loads(line)
            got = problems.PROBLEMS[ref["problem"]][0](ref["params"])
            want = ref["value"]
            ok = (got is None and want is None) or (
                got is not None and want is not None and abs(got - want) <= 1e-9 * max(1.0, abs(want)))
            if not ok:
                bad += 1
                print("MISMATCH %s %s: python %r, C++ %r" % (ref["problem"], ref["params"], got, want))
    print("reference points: %s" % ("all equal" if bad == 0 else "%d differ" % bad))
    return bad


def parse_list(text, conv=str):
    return [conv(x) for x in text.split(",") if x]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", default=",".join(DEFAULT_PROBLEMS))
    ap.add_argument("--noise", default="0,5,10", help="percent of |f*| (Branin: absolute sd = value/100)")
    ap.add_argument("--samplers", default=",".join(SAMPLERS))
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="seeds first .. first+S-1 (bench_optimizer's --first-seed: seeds no tuning has seen)")
    ap.add_argument("--trials", default="30,50,100", help="checkpoints; one study of the largest runs")
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--raw", help="append one JSON line per study to this file")
    ap.add_argument("--resume", action="store_true", help="skip studies already in --raw")
    ap.add_argument("--table-from", help="print the table from a --raw file instead of running")
    ap.add_argument("--timing", action="store_true", help="also time ask() at 100/300 observations, d=20")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--check", metavar="FILE", help="compare with `bench_optimizer --reference-points` output")
    args = ap.parse_args()
    if args.first_seed < 0:
        sys.exit("run_optuna.py: --first-seed %d is negative: numpy seeds are 0 .. 2**32-1" % args.first_seed)
    checkpoints = parse_list(args.trials, int)

    if args.check:
        return 1 if check_reference(args.check) else 0
    if args.table_from:
        with open(args.table_from) as f:
            rows = [json.loads(line) for line in f if line.strip()]
        print_table(rows, checkpoints, args.markdown)
        return 0

    for p in parse_list(args.problems):
        if p not in problems.PROBLEMS:
            sys.exit("run_optuna.py: unknown problem '%s'; use %s" % (p, ",".join(problems.PROBLEMS)))
    jobs = [(p, nz, s, seed, checkpoints) for p in parse_list(args.problems)
            for nz in parse_list(args.noise, int) for s in parse_list(args.samplers)
            for seed in range(args.first_seed, args.first_seed + args.seeds)]
    rows = []
    if args.resume and args.raw:
        # Studies already in the raw file are not run again (an interrupted run continues).
        try:
            with open(args.raw) as f:
                rows = [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            pass
        done = {(r["problem"], r["noise"], r["strategy"], r["seed"]) for r in rows}
        rows = [r for r in rows if (r["problem"], r["noise"], r["strategy"], r["seed"]) in
                {(j[0], j[1], "optuna_" + j[2], j[3]) for j in jobs}]
        jobs = [j for j in jobs if (j[0], j[1], "optuna_" + j[2], j[3]) not in done]
    raw = open(args.raw, "a") if args.raw else None
    started = time.time()
    with multiprocessing.Pool(args.processes) as pool:
        for i, r in enumerate(pool.imap(run_study, jobs)):   # imap keeps job order: reproducible output
            rows.append(r)
            if raw:
                raw.write(json.dumps(r) + "\n")
                raw.flush()
            if (i + 1) % 50 == 0:
                print("# %d/%d studies, %.0f s" % (i + 1, len(jobs), time.time() - started),
                      file=sys.stderr, flush=True)
    print_table(rows, checkpoints, args.markdown)
    if args.timing:
        print()
        print("time per suggestion (ms), d=20, shifted quadratic")
        for s in parse_list(args.samplers):
            print("  optuna_%s: n=100 %.1f ms, n=300 %.1f ms" % (
                s, 1000 * time_per_suggestion(s, 20, 100), 1000 * time_per_suggestion(s, 20, 300)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
