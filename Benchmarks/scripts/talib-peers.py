#!/usr/bin/env python3
"""Per-point cost of TA-Lib's C batch loops against Tickline's streaming indicator updates
(package-benchmark FeaturesBenchmarks), measured in one run, with ratios.

TA-Lib: the C library bundled with the `TA-Lib` wheel (PyPI `TA-Lib`, 0.8.2 bundles TA-Lib
0.8.1), called two ways on the same series:
  C loop    TA_EMA, TA_RSI, ... through ctypes on the library the `talib` module loaded, with
            input and output arrays allocated and touched once before timing: the C loop alone
            (the issue's "TA-Lib's C batch loop per point");
  python    talib.EMA(...) etc.: the same loop plus the wrapper's checks and a fresh output
            array per call (page faults included), as a Python user pays it.
The series is FeaturesBenchmarks' own (the same LCG random walk of bars, regenerated here bit
for bit) so data-dependent branches (RSI's gain/loss, SAR's reversals) see the same data:
--points values, that series repeated when longer (default 1,000,000: one benchmark iteration;
the issue quotes 10,000,000). Each function runs --passes times per run; a run's figure is the
median pass. ATR and SAR are also timed over the first 10,000 bars, 100 calls (`*.cached`),
as the benchmarks' `*.cached` streaming loops keep their bars in cache.

Tickline: `swift package benchmark --target FeaturesBenchmarks --filter "Indicator.*"` run between
the TA-Lib runs, exported as JMH JSON. Each benchmark iteration is 1,000,000 updates over the
same points: streaming (`Indicator.X`: one `update` per point, the output stored, the closes
read from a contiguous array, bar indicators from the 40-byte PriceBar array), batch
(`Indicator.X.batch`: one `update(_:into:)` over the whole buffer) and cached (`*.cached`), so
ns/update = iteration time / 1,000,000. Reported: median and p99 of a run's iterations.
Benchmarks without a TA-Lib counterpart here (z-score) are listed after the table.

Two clocks for both sides: thread CPU time (CLOCK_THREAD_CPUTIME_ID / time.thread_time_ns;
the benchmarks' custom `threadCPU` metric), which leaves out the time a thread waited for a
core on a shared host, and wall clock. The ratios use the CPU figures. The whole measurement
is repeated --runs times (TA-Lib and Tickline interleaved); the median run is printed with
the range. Needs numpy and TA-Lib in the interpreter running this script (`pip install TA-Lib
numpy`, e.g. into .build-venv) and a Swift toolchain; the plugin builds the benchmark package
in release on first use.

Usage: Benchmarks/scripts/talib-peers.py [--points 1000000] [--passes 5] [--runs 3] [--skip-ours]
"""
import argparse, ctypes, json, os, statistics, subprocess, sys, tempfile, shutil, time, atexit

try:
    import numpy as np
    import talib
except ImportError as error:
    sys.exit(f"talib-peers: {error}; pip install TA-Lib numpy")

here = os.path.dirname(os.path.abspath(__file__))
benchmarks = os.path.normpath(os.path.join(here, ".."))
parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--points", type=int, default=1_000_000)
parser.add_argument("--passes", type=int, default=5)
parser.add_argument("--runs", type=int, default=3)
parser.add_argument("--skip-ours", action="store_true", help="TA-Lib only")
parser.add_argument("--filter", default="Indicator.*", help="package-benchmark --filter for ours (a regex matching whole benchmark names)")
args = parser.parse_args()


def series(n):
    """FeaturesBenchmarks' bar series: the same LCG and arithmetic, so the same doubles."""
    state, price = 42, 100.0
    high, low, close = np.empty(n), np.empty(n), np.empty(n)
    mask = (1 << 64) - 1
    for i in range(n):
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        signed = state - (1 << 64) if state >> 63 else state
        step = float(signed >> 40) / float(1 << 23) * 0.5
        open_ = price
        price = max(1.0, price + step)
        spread = abs(step) + 0.05
        high[i], low[i], close[i] = max(open_, price) + spread, min(open_, price) - spread, price
    return high, low, close


def library():
    """The TA-Lib shared library the talib extension loaded (from this process's maps)."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "libta-lib" in os.path.basename(path) or "libta_lib" in os.path.basename(path):
                return ctypes.CDLL(path)
    # Statically linked build: the extension module itself exports the TA_ functions.
    return ctypes.CDLL(talib._ta_lib.__file__)


base_high, base_low, base_close = series(1_000_000)
reps = -(-args.points // len(base_close))
high, low, close = (np.ascontiguousarray(np.tile(a, reps)[: args.points]) for a in (base_high, base_low, base_close))
n = len(close)
lib = library()
D = ctypes.POINTER(ctypes.c_double)
I = ctypes.POINTER(ctypes.c_int)
c_int, c_double = ctypes.c_int, ctypes.c_double
p = lambda a: a.ctypes.data_as(D)
outs = [np.zeros(n) for _ in range(3)]
begin, count = c_int(0), c_int(0)

# name: (C function, argument types after start/end, arguments, python call)
functions = {
    "EMA10": ("TA_EMA", [D, c_int], lambda: [p(close), 10], lambda: talib.EMA(close, 10)),
    "RSI14": ("TA_RSI", [D, c_int], lambda: [p(close), 14], lambda: talib.RSI(close, 14)),
    "ATR14": ("TA_ATR", [D, D, D, c_int], lambda: [p(high), p(low), p(close), 14], lambda: talib.ATR(high, low, close, 14)),
    "BBANDS20": ("TA_BBANDS", [D, c_int, c_double, c_double, c_int], lambda: [p(close), 20, 2.0, 2.0, 0],
                 lambda: talib.BBANDS(close, 20, 2.0, 2.0, 0)),
    "SMA20": ("TA_SMA", [D, c_int], lambda: [p(close), 20], lambda: talib.SMA(close, 20)),
    "STDDEV20": ("TA_STDDEV", [D, c_int, c_double], lambda: [p(close), 20, 1.0], lambda: talib.STDDEV(close, 20, 1.0)),
    "MACD12_26_9": ("TA_MACD", [D, c_int, c_int, c_int], lambda: [p(close), 12, 26, 9], lambda: talib.MACD(close, 12, 26, 9)),
    "SAR": ("TA_SAR", [D, D, c_double, c_double], lambda: [p(high), p(low), 0.02, 0.2], lambda: talib.SAR(high, low, 0.02, 0.2)),
}
outputs = {"TA_BBANDS": 3, "TA_MACD": 3}
calls = {}
for name, (symbol, types, arguments, _) in functions.items():
    f = getattr(lib, symbol)
    k = outputs.get(symbol, 1)
    f.argtypes = [c_int, c_int, *types, I, I, *([D] * k)]
    f.restype = c_int
    fixed = arguments()
    calls[name] = (lambda f=f, fixed=fixed, k=k: f(0, n - 1, *fixed, ctypes.byref(begin), ctypes.byref(count), *[p(o) for o in outs[:k]]))
    code = calls[name]()
    if code != 0:
        sys.exit(f"talib-peers: {symbol} returned {code}")
    # The ctypes call computes what the Python wrapper does, bit for bit.
    expected = functions[name][3]()
    first = expected[0] if isinstance(expected, tuple) else expected
    if not np.array_equal(outs[0][: count.value], first[begin.value:], equal_nan=True):
        sys.exit(f"talib-peers: {symbol} through ctypes differs from talib.{name}")


cached_n = 10_000


def cached(symbol):
    """(CPU, wall) ns per point over the first 10,000 bars, 100 calls: the inputs in cache, as
    FeaturesBenchmarks' *.cached streaming benchmarks keep them."""
    f = getattr(lib, symbol)
    h, l, c = (np.ascontiguousarray(a[:cached_n]) for a in (high, low, close))
    args = {"TA_ATR": [p(h), p(l), p(c), 14], "TA_SAR": [p(h), p(l), 0.02, 0.2]}[symbol]
    times = []
    for _ in range(args_passes):
        w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        for _ in range(100):
            f(0, cached_n - 1, *args, ctypes.byref(begin), ctypes.byref(count), p(outs[0]))
        times.append(((time.thread_time_ns() - c0) / (100 * cached_n), (time.perf_counter_ns() - w0) / (100 * cached_n)))
    return sorted(times)[len(times) // 2]


args_passes = args.passes


def median_pass(call):
    """(CPU, wall) ns per point of the median pass (by CPU time)."""
    times = []
    for _ in range(args.passes):
        w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        call()
        times.append(((time.thread_time_ns() - c0) / n, (time.perf_counter_ns() - w0) / n))
    return sorted(times)[len(times) // 2]


def ours():
    """{benchmark name: (CPU p50, CPU p99, wall p50, wall p99) ns per update} from one
    package-benchmark run (JMH JSON)."""
    folder = tempfile.mkdtemp(prefix="talib-peers-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    command = ["swift", "package", "--allow-writing-to-directory", folder, "benchmark", "--target", "FeaturesBenchmarks",
               "--filter", args.filter, "--format", "jmh", "--path", folder, "--no-progress"]
    result = subprocess.run(command, cwd=benchmarks, capture_output=True, text=True)
    files = [f for f in os.listdir(folder) if f.endswith(".jmh.json")]
    if result.returncode != 0 or not files:
        sys.exit(f"talib-peers: {' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    with open(os.path.join(folder, files[0])) as f:
        elements = json.load(f)
    figures = {}
    for element in elements:
        name = element["benchmark"].rsplit("FeaturesBenchmarks.", 1)[-1]
        metrics = element["secondaryMetrics"]
        wall = next(v for k, v in metrics.items() if "wall" in k.lower())["scorePercentiles"]
        cpu = metrics["threadCPU"]["scorePercentiles"]
        # JMH exports the wall clock in µs per iteration, the custom threadCPU in ns per
        # iteration; an iteration is 1,000,000 updates.
        figures[name] = (cpu["50.0"] / 1e6, cpu["99.0"] / 1e6, wall["50.0"] / 1e3, wall["99.0"] / 1e3)
    os.remove(os.path.join(folder, files[0]))
    return figures


print(f"TA-Lib {talib.__ta_version__.decode()} (python TA-Lib {talib.__version__}); {n:,} points, "
      f"{args.passes} passes per run, {args.runs} runs; load {os.getloadavg()[0]:.1f}")
c_runs, py_runs, our_runs = {}, {}, {}
for run in range(args.runs):
    for name in functions:
        c_runs.setdefault(name, []).append(median_pass(calls[name]))
        py_runs.setdefault(name, []).append(median_pass(functions[name][3]))
    for name, symbol in (("ATR14.cached", "TA_ATR"), ("SAR.cached", "TA_SAR")):
        c_runs.setdefault(name, []).append(cached(symbol))
    if not args.skip_ours:
        for name, figure in ours().items():
            our_runs.setdefault(name, []).append(figure)
    print(f"  run {run + 1} done, load {os.getloadavg()[0]:.1f}", file=sys.stderr)

med = lambda values: statistics.median(values)
span = lambda values: f"{min(values):.2f}..{max(values):.2f}"
print("\nns per point: CPU median (range over runs); python = talib.FUNC incl. its output allocation;"
      "\nours = streaming update, CPU p50 (range) and p99, wall p50; batch = update(_:into:) over the"
      "\nwhole buffer, CPU p50 and p99; *.cached = the first 10,000 bars 100 times over, inputs in cache,"
      "\non both sides; ratio = TA-Lib C CPU / ours CPU p50\n")
print(f"{'indicator':12s} {'TA-Lib C':>8s} {'(range)':>12s} {'C wall':>7s} {'python':>7s} │ {'ours p50':>8s} {'(range)':>12s} {'p99':>6s} {'wall':>6s} │ {'ratio':>6s} │ {'batch':>6s} {'p99':>6s} {'ratio':>6s}")
for name in [*functions, "ATR14.cached", "SAR.cached"]:
    c, py = c_runs[name], py_runs.get(name)
    pyfigure = f"{med([x[0] for x in py]):7.2f}" if py else f"{'':7s}"
    line = f"{name:12s} {med([x[0] for x in c]):8.2f} {span([x[0] for x in c]):>12s} {med([x[1] for x in c]):7.2f} {pyfigure} │"
    key = f"Indicator.{name}"
    if key in our_runs:
        runs = our_runs[key]
        p50 = [x[0] for x in runs]
        line += f" {med(p50):8.2f} {span(p50):>12s} {med([x[1] for x in runs]):6.2f} {med([x[2] for x in runs]):6.2f} │ {med([x[0] for x in c]) / med(p50):5.2f}x"
    if key + ".batch" in our_runs:
        runs = our_runs[key + ".batch"]
        p50 = med([x[0] for x in runs])
        line += f" │ {p50:6.2f} {med([x[1] for x in runs]):6.2f} {med([x[0] for x in c]) / p50:5.2f}x"
    print(line)
others = sorted(k for k in our_runs if k.split("Indicator.", 1)[-1] not in c_runs and k.split("Indicator.", 1)[-1].removesuffix(".batch") not in c_runs)
if others:
    print("\nours without a TA-Lib counterpart here (ns per update: CPU p50 / p99, wall p50):")
    for key in others:
        runs = our_runs[key]
        print(f"  {key:32s} {med([x[0] for x in runs]):7.2f} / {med([x[1] for x in runs]):7.2f}   {med([x[2] for x in runs]):7.2f}")
print("\nratio > 1: the streaming update costs less than TA-Lib's C batch loop per point.")
