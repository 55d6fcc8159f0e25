#!/usr/bin/env python3
"""hftbacktest 2.4.4 replaying the real CME ESH4 MBO day through its L3 (market-by-order) backtester:
the same-data peer figure for Tickline's engine benchmark (issue #6).

Usage (from the repository root, in the project's venv):
    .build-venv/bin/pip install hftbacktest==2.4.4 databento
    .build-venv/bin/python Benchmarks/scripts/hftbacktest_peer.py [--repeat 150] [--runs 3]
        [--json FILE] [--depth roivec|hashmap] [--elapse-step-ns 3600000000000]
        [--data PATH.mbo.dbn.zst] [--cache-dir DIR]

Data: ${TICKLINE_SHARED_DATA:-../shared/data}/dbn/nautilus-glbx/esh4-glbx-mdp3-20231225.mbo.dbn.zst
(the same override variable as Tests/TestSupport/SharedData.swift; the relative default is taken
from the repository root, whatever the working directory). The file is read, never copied here.

Conversion: hftbacktest's own converter, hftbacktest.data.utils.databento.convert (it needs the
`databento` package): DBN action A/C/M/R/T/F -> ADD/CANCEL/MODIFY/DEPTH_CLEAR/TRADE/FILL event,
side B/A -> BUY/SELL flag, ts_event -> exch_ts, ts_recv -> local_ts, then its
correct_local_timestamp, correct_event_order (which splits a record in two rows when the exchange
and local orders disagree) and validate_event_order. The result (hftbacktest's 64-byte event
rows) is cached as .npy under the temp dir (--cache-dir, default $TMPDIR/tickline-hftbacktest-peer),
keyed by the file's sha256 and the hftbacktest version, with the file's DBN record count (counted
with databento's DBNStore); the conversion is not timed.

Backtester: BacktestAsset with l3_fifo_queue_model + no_partial_fill_exchange (hftbacktest's L3
path: L3Local and L3NoPartialFillExchange processors, each keeping its own order-by-order book),
ROIVectorMarketDepthBacktest by default (as in hftbacktest's "Level-3 Backtesting" example; ROI =
the day's price range) or HashMapMarketDepthBacktest with --depth hashmap. ES: tick 0.25, lot 1,
contract size 50, constant order latency 0/0 (no orders are sent, so it does not matter).

Modes, each measured --runs times (the two modes interleaved within a run):
  elapse  pure replay: `while hbt.elapse(step) == 0` with no strategy work (step default 1 h of
          data time; the day spans ~35 h from the snapshot, so ~35 calls per copy).
  feed    a strategy woken by `hbt.wait_next_feed(False, timeout)`; on every wake it reads the
          best bid and best ask ticks of the depth and folds them into a checksum.
Each run replays --repeat K copies of the day back to back in one process. hftbacktest has no way
to rewind or clear a backtester, and a second copy appended to one backtester would go back in
time, so each copy is a fresh backtester built over the same (uncopied) event array; the build
and close of each copy are outside the timed region, the replay loop of each copy (a numba njit
function, compiled beforehand on a 2,000-row slice) is inside it. (Checked once by hand: one
backtester over 150 time-shifted copies joined by DEPTH_CLEAR rows ran at the same events per CPU
second, within 2 %, so the fresh backtesters cost nothing in the timed region.) Wall seconds are
time.perf_counter around each copy's replay call, summed over the K copies; the thread's CPU
seconds (time.thread_time) are reported beside them because the machine is shared.

How events are counted: hftbacktest's Backtest::goto takes one row of the event array at a time
(EventIntentKind::LocalData / ExchData): a row flagged LOCAL_EVENT is processed once by the local
processor, a row flagged EXCH_EVENT once by the exchange processor. "events" here = the number of
rows of the converted array (every row is one L3 event record hftbacktest processes), times K.
For this file every row carries both flags and the row count equals the DBN record count
(68,792): correct_event_order found no record whose exchange and local orders disagree, so it
split none. The script prints the rows, the per-flag counts and the DBN record count, and also
events/s per DBN record. In feed mode `wakes` counts wait_next_feed returns of 2 (market feed);
hftbacktest wakes once per distinct local timestamp (rows sharing a local_ts are processed in the
same wake), so wakes < rows.

Exit status: 0 ok, 2 a package is missing, 1 anything else (data missing, a backtester error code).
"""
import argparse, contextlib, hashlib, json, os, platform, statistics, sys, tempfile, time, warnings

try:
    import numpy as np
    from numba import njit
    import hftbacktest
    from hftbacktest import (BacktestAsset, ROIVectorMarketDepthBacktest, HashMapMarketDepthBacktest,
                             EXCH_EVENT, LOCAL_EVENT)
except ImportError as error:
    print(f"hftbacktest_peer: {error}; pip install hftbacktest==2.4.4", file=sys.stderr)
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "../.."))
DAY = "dbn/nautilus-glbx/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
WARMUP_ROWS = 2_000
FEED_TIMEOUT_NS = 10 * 86_400 * 1_000_000_000  # far past the day: a timeout return is only a re-wait


def shared_data_root():
    override = os.environ.get("TICKLINE_SHARED_DATA", "")
    return override if override else os.path.normpath(os.path.join(ROOT, "../shared/data"))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.path.join(shared_data_root(), DAY), help="DBN MBO file")
    parser.add_argument("--repeat", type=int, default=150, help="copies of the day per run (K)")
    parser.add_argument("--runs", type=int, default=3, help="measurements per mode")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--depth", choices=("roivec", "hashmap"), default="roivec")
    parser.add_argument("--elapse-step-ns", type=int, default=3_600 * 1_000_000_000)
    parser.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "tickline-hftbacktest-peer"))
    args = parser.parse_args()
    if args.repeat < 1 or args.runs < 1 or args.elapse_step_ns < 1:
        parser.error("--repeat, --runs and --elapse-step-ns must be positive")
    return args


def load_events(path, cache_dir):
    """hftbacktest's L3 rows for the DBN file, converted once by hftbacktest's own converter."""
    if not os.path.isfile(path):
        sys.exit(f"hftbacktest_peer: no data file {path} (set TICKLINE_SHARED_DATA to the shared/data folder)")
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    os.makedirs(cache_dir, exist_ok=True)
    cached = os.path.join(cache_dir, f"{os.path.basename(path)}.{digest}.hftbacktest-{hftbacktest.__version__}.npz")
    if os.path.isfile(cached):
        with np.load(cached) as stored:
            return np.ascontiguousarray(stored["events"]), int(stored["dbn_records"]), cached, False
    try:
        import databento
        from hftbacktest.data.utils import databento as hbt_databento
    except ImportError as error:
        print(f"hftbacktest_peer: {error}; hftbacktest's Databento converter needs it: pip install databento",
              file=sys.stderr)
        sys.exit(2)
    dbn_records = sum(1 for _ in databento.DBNStore.from_file(path))
    with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecation noise from databento's to_df
        events = hbt_databento.convert(path, None)  # prints its progress (to stderr here)
    events = np.ascontiguousarray(events)
    partial = cached + f".{os.getpid()}.tmp.npz"
    np.savez(partial, events=events, dbn_records=np.int64(dbn_records))
    os.replace(partial, cached)
    return events, dbn_records, cached, True


def build(events, depth, roi_lb, roi_ub):
    asset = (BacktestAsset()
             .data(events)
             .linear_asset(50.0)
             .constant_order_latency(0, 0)
             .l3_fifo_queue_model()
             .no_partial_fill_exchange()
             .tick_size(0.25)
             .lot_size(1.0)
             .roi_lb(roi_lb)
             .roi_ub(roi_ub))
    return ROIVectorMarketDepthBacktest([asset]) if depth == "roivec" else HashMapMarketDepthBacktest([asset])


@njit
def replay_elapse(hbt, step):
    """Pure replay: no strategy work between elapse calls. Returns (status, elapse calls)."""
    calls = 0
    while True:
        rc = hbt.elapse(step)
        calls += 1
        if rc != 0:
            return rc, calls


@njit
def replay_feed(hbt, timeout):
    """Strategy loop woken on every market feed; reads the best bid/ask ticks each wake.
    Returns (status, wakes, checksum)."""
    wakes = 0
    checksum = 0
    while True:
        rc = hbt.wait_next_feed(False, timeout)
        if rc == 2:
            depth = hbt.depth(0)
            checksum += depth.best_bid_tick * 3 + depth.best_ask_tick
            wakes += 1
        elif rc != 0:
            return rc, wakes, checksum


def one_copy(events, args, roi, mode):
    """Builds a backtester, times its replay only, reads the final top of book, closes it."""
    hbt = build(events, args.depth, *roi)
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    if mode == "elapse":
        rc, calls = replay_elapse(hbt, args.elapse_step_ns)
        extra = {"elapse_calls": calls}
    else:
        rc, wakes, checksum = replay_feed(hbt, FEED_TIMEOUT_NS)
        extra = {"wakes": wakes, "checksum": checksum}
    cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
    if rc != 1:  # 1 = end of data; anything else is an error code from the backtester
        sys.exit(f"hftbacktest_peer: {mode} replay returned {rc} (expected 1, end of data)")
    depth = hbt.depth(0)
    top = (int(depth.best_bid_tick), int(depth.best_ask_tick))
    hbt.close()
    return wall, cpu, top, extra


def measure(events, args, roi, mode, rows, dbn_records):
    wall = cpu = 0.0
    tops, extras = set(), []
    for _ in range(args.repeat):
        w, c, top, extra = one_copy(events, args, roi, mode)
        wall += w
        cpu += c
        tops.add(top)
        extras.append(extra)
    if len(tops) != 1 or any(e != extras[0] for e in extras):
        sys.exit(f"hftbacktest_peer: {mode}: copies of the same day ended differently: {tops} {extras[:2]}")
    events_total = rows * args.repeat
    return {"events": events_total, "dbn_records": dbn_records * args.repeat, "wall_s": wall, "cpu_s": cpu,
            "events_per_s": events_total / wall, "dbn_records_per_s": dbn_records * args.repeat / wall,
            "events_per_cpu_s": events_total / cpu if cpu > 0 else None,
            "final_best_bid_tick": next(iter(tops))[0], "final_best_ask_tick": next(iter(tops))[1],
            **extras[0]}


def main():
    args = parse_args()
    if hftbacktest.__version__ != "2.4.4":
        print(f"hftbacktest_peer: warning: hftbacktest {hftbacktest.__version__}, figures are for 2.4.4",
              file=sys.stderr)
    t0 = time.perf_counter()
    events, dbn_records, cache_path, converted = load_events(args.data, args.cache_dir)
    convert_s = time.perf_counter() - t0
    rows = len(events)
    if rows == 0:
        sys.exit("hftbacktest_peer: the converted day has no events")
    ev = events["ev"]
    both = int(np.count_nonzero((ev & EXCH_EVENT != 0) & (ev & LOCAL_EVENT != 0)))
    exch_rows = int(np.count_nonzero(ev & EXCH_EVENT))
    local_rows = int(np.count_nonzero(ev & LOCAL_EVENT))
    px = events["px"][np.isfinite(events["px"])]
    roi = (float(np.floor(px.min())) - 1.0, float(np.ceil(px.max())) + 1.0)
    kinds = {name: int(np.count_nonzero(ev & 0xFF == code)) for name, code in
             (("add", 10), ("cancel", 11), ("modify", 12), ("fill", 13), ("trade", 2), ("clear", 3))}
    print(f"data: {args.data}")
    print(f"hftbacktest {hftbacktest.__version__}, numpy {np.__version__}, python {platform.python_version()}, "
          f"depth {args.depth}, ROI {roi[0]}..{roi[1]}")
    print(f"conversion: {'converted' if converted else 'cached'} in {convert_s:.2f} s -> {cache_path}")
    print(f"one copy of the day: {rows} L3 event rows (DBN records {dbn_records}); "
          f"EXCH {exch_rows}, LOCAL {local_rows}, both {both}; {kinds}")

    # Numba warm-up: compile both replay loops (and the binding's jitted methods) on a small slice.
    warm = np.ascontiguousarray(events[:WARMUP_ROWS])
    w0 = time.perf_counter()
    for mode in ("elapse", "feed"):
        one_copy(warm, args, roi, mode)
    print(f"numba warm-up ({WARMUP_ROWS} rows, both modes): {time.perf_counter() - w0:.2f} s (not timed)")

    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} "
          f"({os.cpu_count()} CPUs); repeat K={args.repeat} copies per run, {args.runs} runs")
    results = {"elapse": [], "feed": []}
    for run in range(1, args.runs + 1):
        for mode in ("elapse", "feed"):
            r = measure(events, args, roi, mode, rows, dbn_records)
            results[mode].append(r)
            more = f"{r['elapse_calls']} elapse calls/copy" if mode == "elapse" else f"{r['wakes']} wakes/copy"
            print(f"run {run} {mode:6s}: {r['events']} events in {r['wall_s']:.3f} s wall "
                  f"({r['cpu_s']:.3f} s CPU) = {r['events_per_s'] / 1e6:.2f} M events/s "
                  f"({r['events_per_cpu_s'] / 1e6:.2f} M per CPU s); {more}")
    load_after = os.getloadavg()
    summary = {}
    for mode, runs in results.items():
        rates = [r["events_per_s"] for r in runs]
        med = statistics.median(rates)
        summary[mode] = {"median_events_per_s": med, "min_events_per_s": min(rates), "max_events_per_s": max(rates),
                         "spread_pct": 100.0 * (max(rates) - min(rates)) / med,
                         "median_events_per_cpu_s": statistics.median(r["events_per_cpu_s"] for r in runs),
                         "median_wall_s": statistics.median(r["wall_s"] for r in runs)}
        print(f"median {mode:6s}: {med / 1e6:.2f} M events/s (runs {min(rates) / 1e6:.2f}..{max(rates) / 1e6:.2f}, "
              f"spread {summary[mode]['spread_pct']:.1f} %), {summary[mode]['median_events_per_cpu_s'] / 1e6:.2f} M "
              f"per CPU s")
    last = results["elapse"][-1]
    print(f"final top of book (ticks of 0.25, every copy): bid {last['final_best_bid_tick']} "
          f"ask {last['final_best_ask_tick']}")
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    if args.json:
        document = {
            "tool": "hftbacktest", "version": hftbacktest.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "data": args.data, "depth": args.depth, "roi": roi,
            "repeat": args.repeat, "runs": args.runs, "elapse_step_ns": args.elapse_step_ns,
            "rows_per_copy": rows, "exch_rows_per_copy": exch_rows, "local_rows_per_copy": local_rows,
            "dbn_records_per_copy": dbn_records, "event_kinds_per_copy": kinds,
            "load_average_before": load_before, "load_average_after": load_after, "cpus": os.cpu_count(),
            "runs_detail": results, "summary": summary,
            **summary,  # also top-level "elapse" / "feed": {median_events_per_s, ...} for engine-throughput
        }
        with open(args.json, "w") as f:
            json.dump(document, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
