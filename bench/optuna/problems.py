"""Benchmark problems for the Optuna side-by-side: the same definitions as bench/problems.cpp.

Every function takes a dict of parameter values and returns f (to minimise) or None for a failed
trial. The definitions follow ../../../shared/design/BENCHMARKS.md; the WireGuard host simulator is
documented in bench/problems.hpp (kept in step with wg_sim below: run_optuna.py --check compares
both at reference points printed by `bench_optimizer --reference-points`).
"""
import math

# ---- Branin on [-5, 10] x [0, 15] -------------------------------------------------------------
BRANIN_FSTAR = 0.397887


def branin(p):
    x1, x2 = p["x1"], p["x2"]
    b = 5.1 / (4.0 * math.pi ** 2)
    c = 5.0 / math.pi
    t = 1.0 / (8.0 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6.0) ** 2 + 10.0 * (1.0 - t) * math.cos(x1) + 10.0


# ---- Hartmann6 on [0, 1]^6 ----------------------------------------------------------------------
H6_FSTAR = -3.32237
H6_ALPHA = [1.0, 1.2, 3.0, 3.2]
H6_A = [[10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14]]
H6_P = [[1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381]]


def hartmann6_x(x):
    total = 0.0
    for i in range(4):
        inner = 0.0
        for j in range(6):
            d = x[j] - H6_P[i][j] * 1e-4
            inner += H6_A[i][j] * d * d
        total += H6_ALPHA[i] * math.exp(-inner)
    return -total


def hartmann6(p):
    return hartmann6_x([p["x%d" % (j + 1)] for j in range(6)])


# ---- Mixed Hartmann6: 2 real, 2 int 0..15, a categorical of 4 levels, a bool --------------------
MIXED_FSTAR = -2.946019
MIXED_POS = [0.62, 0.12, 0.87, 0.37]


def mixed_hartmann6(p):
    x = [p["c1"], p["c2"], (p["k3"] + 0.5) / 16.0, (p["k4"] + 0.5) / 16.0,
         MIXED_POS[int(p["cat"])], 0.75 if p["b"] else 0.25]
    return hartmann6_x(x)


# ---- Simulated WireGuard host (f = -goodput in Gbit/s; see bench/problems.hpp) ----------------
WG_FSTAR = -5.597696884637998   # by enumeration of all 14,061,600 feasible configurations (bench_optimizer --enumerate-wg)
WG_PATH_MTU_MAX = 1420          # underlay MTU 1500 minus WireGuard's 80 bytes of IPv6 framing
WG_CC = {"cubic": (1.0, 1.0), "reno": (1.6, 0.99), "bbr": (0.15, 0.965)}  # loss sensitivity, efficiency


def wg_sim(p):
    rps, rfs, gro, cc = int(p["rps"]), bool(p.get("rfs", False)), bool(p["gro"]), p["cc"]   # rfs: only when rps != 0
    backlog, budget, ring, rmem, mtu = (float(p["backlog"]), float(p["budget"]), float(p["ring"]),
                                        float(p["rmem"]), float(p["mtu"]))
    if mtu > WG_PATH_MTU_MAX:
        return None                                   # black hole: the trial cuts connectivity
    k = bin(rps).count("1")
    bit = [(rps >> i) & 1 for i in range(4)]
    w_rx = (1.5 if gro else 3.6) * (0.85 if (rfs and k > 0) else 1.0)
    share = w_rx / max(k, 1)
    w_irq = 0.5 + 0.03 * math.log2(ring / 256.0)
    cpu = [w_irq + (w_rx if k == 0 else 0.1 + bit[0] * share),
           1.0 + 0.0006 * mtu + bit[1] * share,
           bit[2] * share,
           0.0004 * mtu + bit[3] * share]
    load = sum(c ** 8 for c in cpu) ** (1.0 / 8.0)
    mss = mtu - 52.0
    t_cpu = mss * 8.0 / load / 1000.0
    t_win = 8.0 * (rmem / 2.0) * 8.0 / 0.020 / 1e9
    t = (t_cpu ** -4 + t_win ** -4) ** -0.25
    squeeze = math.sqrt(300.0 / budget)
    if k == 0:
        p_backlog, m_backlog = 0.0, 1.0
    else:
        q = (6000.0 if gro else 16000.0) / k * squeeze
        p_backlog = 0.005 * max(0.0, 1.0 - backlog / q)
        m_backlog = 1.0 - 0.004 * math.log2(max(1.0, backlog / q))
    r_need = 1200.0 * squeeze * (cpu[0] / max(cpu))
    p_miss = 0.002 * max(0.0, 1.0 - ring / r_need)
    loss = 1e-4 + p_backlog + p_miss
    sens, eff = WG_CC[cc]
    m_loss = eff / (1.0 + sens * 400.0 * loss)
    m_mem = 1.0 / (1.0 + 0.05 * (rmem / 2.0 ** 25) ** 2)
    m_budget = 1.0 - 0.00003 * max(0.0, budget - 300.0)
    return -(t * m_loss * m_mem * m_backlog * m_budget)


# ---- WireGuard-shaped hosts of several sizes (see bench/wg_hosts.hpp for the model) ------------
HOST_CCS = ["cubic", "reno", "bbr"]
HOST_QDISCS = ["pfifo_fast", "fq", "fq_codel"]
HOST_CC_QDISC = [[(1.0, 1.0), (0.7, 0.995), (0.85, 0.99)],       # cubic: pfifo_fast, fq, fq_codel
                 [(1.6, 0.99), (1.2, 0.985), (1.4, 0.98)],       # reno
                 [(0.15, 0.93), (0.1, 0.97), (0.15, 0.945)]]     # bbr
_HOST_DEFAULTS = dict(numa_split=0, ring_max=8192, has_budget=True, has_coalesce=False, burst_scale=1.0,
                      streams=8, noise="gaussian")
HOSTS = {
    "wg_host2": dict(_HOST_DEFAULTS, cpus=2, irq_cpu=0, crypto_cpu=1, app_cpu=1, mtu_min=1280, mtu_max=1500,
                     mtu_step=4, path_mtu=1412, ring_max=4096, has_budget=False, rtt=0.040, path_loss=1e-3,
                     link_gbps=10.0, mem_knee=8388608.0, streams=4, noise="student_t", fstar=-2.9537855111148947),
    "wg_host4": dict(_HOST_DEFAULTS, cpus=4, irq_cpu=2, crypto_cpu=0, app_cpu=3, mtu_min=1280, mtu_max=1500,
                     mtu_step=10, path_mtu=1440, rtt=0.020, path_loss=2e-4, link_gbps=10.0,
                     mem_knee=33554432.0, fstar=-5.3612498653593121),
    "wg_host8": dict(_HOST_DEFAULTS, cpus=8, irq_cpu=3, crypto_cpu=6, app_cpu=1, mtu_min=1280, mtu_max=9200,
                     mtu_step=40, path_mtu=8920, has_coalesce=True, rtt=0.002, path_loss=5e-5, link_gbps=25.0,
                     mem_knee=67108864.0, noise="interference", fstar=-10.823151252716336),
    "wg_host16": dict(_HOST_DEFAULTS, cpus=16, irq_cpu=0, crypto_cpu=9, app_cpu=4, numa_split=8, mtu_min=1280,
                      mtu_max=1500, mtu_step=2, path_mtu=1420, has_coalesce=True, rtt=0.010, path_loss=3e-4,
                      link_gbps=25.0, mem_knee=33554432.0, burst_scale=1.5, noise="student_t",
                      fstar=-5.616866860302256),
}


def _softmin4(a, b):
    return (a ** -4.0 + b ** -4.0) ** -0.25


def wg_host(spec, p):
    """-goodput of a WireGuard-shaped host (bench/wg_hosts.hpp), None when the MTU black-holes."""
    rps, rfs, gro = int(p["rps"]), bool(p.get("rfs", False)), bool(p["gro"])
    backlog, ring, rmem, mtu = float(p["backlog"]), float(p["ring"]), float(p["rmem"]), float(p["mtu"])
    budget = float(p["budget"]) if spec["has_budget"] else 300.0
    rx = float(p["rx_usecs"]) if spec["has_coalesce"] else 8.0
    if mtu > spec["path_mtu"]:
        return None
    cpus, k = spec["cpus"], bin(rps).count("1")
    rfs = rfs and k > 0
    w_rx = ((1.5 if gro else 3.6) + 0.0002 * mtu) * (0.85 if rfs else 1.0)
    steered = 0.5 if rfs else 0.0
    load = [0.0] * cpus
    load[spec["irq_cpu"]] += (0.2 + 1.2 / math.sqrt(1.0 + rx / 2.0) + 0.03 * math.log2(ring / 256.0)
                              + (w_rx if k == 0 else 0.1 + 0.015 * k))
    load[spec["crypto_cpu"]] += 1.0 + 0.0006 * mtu
    load[spec["app_cpu"]] += 0.0004 * mtu

    def speed(i):
        return 1.3 if spec["numa_split"] > 0 and i >= spec["numa_split"] else 1.0
    if k > 0:
        load[spec["app_cpu"]] += steered * w_rx * speed(spec["app_cpu"])
        for i in range(cpus):
            if (rps >> i) & 1:
                load[i] += (1.0 - steered) * w_rx / k * speed(i)
    norm8 = sum(x ** 8.0 for x in load)
    t_cpu = (mtu - 52.0) * 8.0 / norm8 ** (1.0 / 8.0) / 1000.0
    t_line = spec["link_gbps"] * (mtu - 52.0) / (mtu + 118.0)
    t = _softmin4(t_cpu, t_line)
    t_win = spec["streams"] * (rmem / 2.0) * 8.0 / spec["rtt"] / 1e9
    r = rmem / spec["mem_knee"]
    w = _softmin4(t, t_win) / (1.0 + 0.05 * r * r)
    squeeze = math.sqrt(300.0 / budget)
    p_backlog, m_backlog = 0.0, 1.0
    if k > 0:
        q = (6000.0 if gro else 16000.0) * spec["burst_scale"] / k * squeeze
        p_backlog = 0.005 * max(0.0, 1.0 - backlog / q)
        m_backlog = 1.0 - 0.004 * math.log2(max(1.0, backlog / q))
    r_need = 1200.0 * squeeze * (1.0 + rx / 32.0) * (0.6 if k > 0 else 1.0)
    p_miss = 0.002 * max(0.0, 1.0 - ring / r_need)
    loss = spec["path_loss"] + p_backlog + p_miss
    sens, eff = HOST_CC_QDISC[HOST_CCS.index(p["cc"])][HOST_QDISCS.index(p["qdisc"])]
    m_loss = eff / (1.0 + sens * 400.0 * loss)
    m_budget = 1.0 - 0.00003 * max(0.0, budget - 300.0)
    m_coal = 1.0 - 0.0003 * rx
    return -(w * m_loss * m_backlog * m_budget * m_coal)


def _host_fn(name):
    return lambda p: wg_host(HOSTS[name], p)


PROBLEMS = {
    "branin": (branin, BRANIN_FSTAR),
    "hartmann6": (hartmann6, H6_FSTAR),
    "mixed_hartmann6": (mixed_hartmann6, MIXED_FSTAR),
    "wg_sim": (wg_sim, WG_FSTAR),
}
for _name, _spec in HOSTS.items():
    PROBLEMS[_name] = (_host_fn(_name), _spec["fstar"])


def host_start(name):
    """The host's defaults in Optuna's parameter names (bench/wg_hosts.cpp host_start)."""
    spec = HOSTS[name]
    start = {"rfs": False, "backlog_log2": 10, "ring_log2": 8, "rmem_log2": 22, "mtu": 1280, "gro": True,
             "cc": "cubic", "qdisc": "pfifo_fast"}
    for i in range(spec["cpus"]):
        start["rps_cpu%d" % i] = False
    if spec["has_budget"]:
        start["budget"] = 300
    if spec["has_coalesce"]:
        start["rx_usecs"] = 8
    return start


# The host's current configuration (NetBird's default MTU, kernel defaults, a 256-slot ring): the first
# trial on wg_sim for every strategy, as wgopt starts from the host's present values.
WG_START = {"rps": 0, "rfs": False, "backlog_log2": 10, "budget": 300, "ring_log2": 8, "rmem_log2": 22,
            "mtu": 1280, "gro": True, "cc": "cubic"}


def noise_sd(problem, level):
    """level is a percentage of |f*|; Branin's noise is absolute: level / 100."""
    if problem == "branin":
        return level / 100.0
    return level / 100.0 * abs(PROBLEMS[problem][1])


def suggest(trial, problem):
    """Optuna's view of each space (pow2 as an exponent, the mask as an int, bools categorical)."""
    if problem == "branin":
        return {"x1": trial.suggest_float("x1", -5.0, 10.0), "x2": trial.suggest_float("x2", 0.0, 15.0)}
    if problem == "hartmann6":
        return {"x%d" % j: trial.suggest_float("x%d" % j, 0.0, 1.0) for j in range(1, 7)}
    if problem == "mixed_hartmann6":
        return {"c1": trial.suggest_float("c1", 0.0, 1.0), "c2": trial.suggest_float("c2", 0.0, 1.0),
                "k3": trial.suggest_int("k3", 0, 15), "k4": trial.suggest_int("k4", 0, 15),
                "cat": trial.suggest_categorical("cat", [0, 1, 2, 3]),
                "b": trial.suggest_categorical("b", [False, True])}
    if problem == "wg_sim":
        return {"rps": trial.suggest_int("rps", 0, 15),
                "rfs": trial.suggest_categorical("rfs", [False, True]),
                "backlog": 2 ** trial.suggest_int("backlog_log2", 10, 16),
                "budget": trial.suggest_int("budget", 100, 1000, step=100),
                "ring": 2 ** trial.suggest_int("ring_log2", 8, 13),
                "rmem": 2 ** trial.suggest_int("rmem_log2", 16, 27),
                "mtu": trial.suggest_int("mtu", 1280, 1460, step=10),
                "gro": trial.suggest_categorical("gro", [False, True]),
                "cc": trial.suggest_categorical("cc", ["cubic", "reno", "bbr"])}
    if problem in HOSTS:
        return from_optuna_params(problem, suggest_host(trial, HOSTS[problem]))
    raise ValueError("unknown problem '%s'" % problem)


def suggest_host(trial, spec):
    """A host's space for Optuna: the RPS mask as one boolean per CPU (its structure, as wgopt encodes
    it), pow2 knobs as exponents, rx_usecs on a log scale, rfs always suggested (ignored without RPS)."""
    p = {"rps_cpu%d" % i: trial.suggest_categorical("rps_cpu%d" % i, [False, True]) for i in range(spec["cpus"])}
    p["rfs"] = trial.suggest_categorical("rfs", [False, True])
    p["backlog_log2"] = trial.suggest_int("backlog_log2", 10, 16)
    if spec["has_budget"]:
        p["budget"] = trial.suggest_int("budget", 100, 1000, step=100)
    p["ring_log2"] = trial.suggest_int("ring_log2", 8, int(math.log2(spec["ring_max"])))
    p["rmem_log2"] = trial.suggest_int("rmem_log2", 16, 27)
    p["mtu"] = trial.suggest_int("mtu", spec["mtu_min"], spec["mtu_max"], step=spec["mtu_step"])
    p["gro"] = trial.suggest_categorical("gro", [False, True])
    p["cc"] = trial.suggest_categorical("cc", HOST_CCS)
    p["qdisc"] = trial.suggest_categorical("qdisc", HOST_QDISCS)
    if spec["has_coalesce"]:
        p["rx_usecs"] = trial.suggest_int("rx_usecs", 1, 256, log=True)
    return p


def from_optuna_params(problem, params):
    """best_trial.params (names as suggested) -> the problem's own parameter dict."""
    if problem != "wg_sim" and problem not in HOSTS:
        return dict(params)
    p = dict(params)
    for name in ("backlog", "ring", "rmem"):
        p[name] = 2 ** p.pop(name + "_log2")
    if problem in HOSTS:
        p["rps"] = sum(1 << i for i in range(HOSTS[problem]["cpus"]) if p.pop("rps_cpu%d" % i))
    return p


def noisy(kind, f, sd, rng):
    """The noisy measurement of f (bench/harness.hpp noisy(): same distributions, numpy's stream)."""
    if kind == "gaussian":
        return f + sd * rng.normal()
    if kind == "student_t":
        z = [rng.normal() for _ in range(4)]
        t = z[0] / math.sqrt((z[1] ** 2 + z[2] ** 2 + z[3] ** 2) / 3.0)
        return f + sd * t / math.sqrt(3.0)
    if kind == "interference":
        z, u1, u2 = rng.normal(), rng.uniform(), rng.uniform()
        return f + sd * z + (abs(f) * (0.1 + 0.4 * u2) if u1 < 0.1 else 0.0)
    raise ValueError("unknown noise kind '%s'" % kind)


def noise_kind(problem):
    return HOSTS[problem]["noise"] if problem in HOSTS else "gaussian"
