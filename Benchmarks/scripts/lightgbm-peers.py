#!/usr/bin/env python3
"""Per-row prediction time of Tickline (interpreter and compiled forest, through `tickline model
bench`), LightGBM and lleaves (LLVM-compiled LightGBM) on the same rows of the same model, in
one run, with ratios. Needs a release build of tickline (`swift build -j 2 -c release --product
tickline`) and `pip install lightgbm lleaves 'llvmlite<0.44'` (lleaves 1.3 uses llvmlite's
legacy pass manager).

Models:
  (default)     the issue's benchmark shape, written by `tickline model synth`: 100 trees of
                depth 8 with 255 leaves over 32 features (see --trees/--depth/--leaves/--features)
                and two row sets of 4,000 rows with 2 % missing values: `random` (every value
                drawn independently: each split is a coin toss, so branch prediction cannot
                help) and `walk` (each row the previous one moved by at most --walk per feature:
                consecutive rows mostly take the same paths, as features computed tick by tick do)
  --model NAME  a reference model in ../shared/data/lightgbm-models (rows: its 200 oracle rows)

Each engine evaluates --rows rows (the row set repeated) --passes times per run; a run's figure
is the median pass; the whole measurement is repeated --runs times, engines interleaved, and the
median run is reported (with the range). Times are the measuring thread's CPU time in every
engine (CLOCK_THREAD_CPUTIME_ID / time.thread_time), so other processes on a shared machine do
not inflate them; LightGBM runs with num_threads=1 and lleaves with n_jobs=1, both on the whole
batch. Before timing, LightGBM's raw scores are compared with `tickline model predict` (and
`--compiled`) on the rows: they must be equal bit for bit.

Usage: Benchmarks/scripts/lightgbm-peers.py [--model NAME] [--rows 20000] [--passes 5] [--runs 5]
       [--tickline .build/release/tickline] [--walk 0.002] [--rowsets random,walk]
"""
import argparse, atexit, csv, os, re, shutil, statistics, subprocess, sys, tempfile, time

try:
    import lightgbm as lgb
    import lleaves
    import numpy as np
except ImportError as error:
    sys.exit(f"lightgbm-peers: {error}; pip install lightgbm lleaves 'llvmlite<0.44' numpy")

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "../.."))
parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--model", help="reference model name in ../shared/data/lightgbm-models")
parser.add_argument("--rows", type=int, default=20_000)
parser.add_argument("--passes", type=int, default=5)
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--tickline", default=os.path.join(root, ".build/release/tickline"))
parser.add_argument("--trees", type=int, default=100)
parser.add_argument("--depth", type=int, default=8)
parser.add_argument("--leaves", type=int, default=255)
parser.add_argument("--features", type=int, default=32)
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--walk", type=float, default=0.002)
parser.add_argument("--rowsets", default="random,walk")
args = parser.parse_args()
if not os.access(args.tickline, os.X_OK):
    sys.exit(f"lightgbm-peers: no tickline at {args.tickline} (swift build -j 2 -c release --product tickline)")
work = tempfile.mkdtemp(prefix="tickline-peers-")
atexit.register(shutil.rmtree, work, ignore_errors=True)
env = dict(os.environ, TICKLINE_MODEL_CACHE=os.environ.get("TICKLINE_MODEL_CACHE", os.path.join(work, "cache")))


def tickline(*arguments):
    result = subprocess.run([args.tickline, *arguments], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"lightgbm-peers: tickline {' '.join(arguments)} failed:\n{result.stderr}")
    return result


def read_rows(path, names):
    """Feature columns f0..fN (or the model's names) of a CSV; empty or nan = missing."""
    with open(path) as f:
        table = list(csv.reader(f))
    header = table[0]
    columns = [header.index(n) if n in header else header.index(f"f{i}") for i, n in enumerate(names)]
    cell = lambda c: float(c) if c not in ("", "nan") else np.nan
    return np.array([[cell(r[c]) for c in columns] for r in table[1:]], dtype=np.float64)


def read_raw(path):
    with open(path) as f:
        table = list(csv.reader(f))
    k = sum(1 for c in table[0] if c.startswith("raw"))
    return np.array([[float(x) for x in r[:k]] for r in table[1:]])


def median_pass(function):
    times = []
    for _ in range(args.passes):
        t0 = time.thread_time_ns()
        function()
        times.append(time.thread_time_ns() - t0)
    return statistics.median(times) / args.rows


# Model and row sets.
rowsets = []
if args.model:
    shared = os.environ.get("TICKLINE_SHARED_DATA") or os.path.join(root, "../shared/data")
    folder = os.path.join(shared, "lightgbm-models", args.model)
    model = os.path.join(folder, "model.txt")
    rowsets.append(("oracle", os.path.join(folder, "model.expected.csv")))
    shape = args.model
else:
    model = os.path.join(work, "model.txt")
    shape = f"synthetic: {args.trees} trees, depth {args.depth}, {args.leaves} leaves, {args.features} features, seed {args.seed}"
    common = ["model", "synth", "--trees", str(args.trees), "--depth", str(args.depth), "--leaves", str(args.leaves),
              "--features", str(args.features), "--seed", str(args.seed), "--out", model, "--rows", "4000", "--missing", "0.02"]
    for kind in args.rowsets.split(","):
        path = os.path.join(work, f"{kind}.csv")
        tickline(*common, "--rows-out", path, *(["--walk", str(args.walk)] if kind == "walk" else []))
        rowsets.append((kind if kind != "walk" else f"walk {args.walk}", path))

booster = lgb.Booster(model_file=model)
names = booster.feature_name()
print(f"model {shape}; {args.rows} rows per pass, {args.passes} passes per run, {args.runs} runs; ns/row, thread CPU time")
compiled = tickline("model", "compile", "--model", model).stdout.strip()
print(f"tickline compiled forest: {compiled}")
t0 = time.perf_counter()
ll = lleaves.Model(model_file=model)
ll.compile(cache=os.path.join(work, "lleaves.bin"))
print(f"lleaves compile: {time.perf_counter() - t0:.1f} s")

for kind, path in rowsets:
    base = read_rows(path, names)
    X = np.ascontiguousarray(np.tile(base, (args.rows // len(base) + 1, 1))[: args.rows])
    # Same scores first: LightGBM's raw scores against tickline's, bit for bit.
    expected = booster.predict(base, raw_score=True, num_threads=1).reshape(len(base), -1)
    agreement = []
    for flag in ([], ["--compiled"]):
        out = os.path.join(work, "pred.csv")
        tickline("model", "predict", *flag, "--model", model, "--input", path, "--out", out)
        ours = read_raw(out)
        engine = "compiled" if flag else "interpreter"
        if ours.shape == expected.shape and np.array_equal(ours.view(np.uint64), expected.view(np.uint64)):
            agreement.append(f"{engine} bit-identical to LightGBM")
        else:
            worst = np.max(np.abs(ours - expected) / np.maximum(np.abs(expected), 1)) if ours.shape == expected.shape else "shape"
            agreement.append(f"WARNING: {engine} differs from LightGBM (worst {worst})")
    lleaves_error = np.max(np.abs(ll.predict(base, n_jobs=1).reshape(expected.shape) - booster.predict(base, num_threads=1).reshape(expected.shape)))

    figures = {}
    for _ in range(args.runs):
        out = tickline("model", "bench", "--model", model, "--input", path, "--rows", str(args.rows), "--passes", str(args.passes)).stdout
        for engine, way, value in re.findall(r"^(interpreter|compiled) (single|batch) ns/row median ([0-9.]+)", out, re.M):
            figures.setdefault(f"tickline {engine} {way}", []).append(float(value))
        figures.setdefault("lightgbm batch", []).append(median_pass(lambda: booster.predict(X, num_threads=1)))
        figures.setdefault("lleaves batch", []).append(median_pass(lambda: ll.predict(X, n_jobs=1)))

    print(f"\n{kind} rows ({len(base)} distinct; raw scores: {', '.join(agreement)}; lleaves max |difference| from LightGBM {lleaves_error:.1e}):")
    median = {name: statistics.median(values) for name, values in figures.items()}
    for name, values in figures.items():
        print(f"  {name:30s} {median[name]:9.1f}   (runs {min(values):.1f} .. {max(values):.1f})")
    for name in [n for n in median if n.startswith("tickline")]:
        lg, lv = median["lightgbm batch"] / median[name], median["lleaves batch"] / median[name]
        print(f"  {name:30s} is {lg:5.2f}x LightGBM's speed, {lv:5.2f}x lleaves'")
