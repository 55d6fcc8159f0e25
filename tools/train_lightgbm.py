#!/usr/bin/env python3
"""Train a LightGBM model from `tickline features export` output and write model.txt.

    tickline features export --bars BARS.csv --spec config/features/minute-alpha.yaml \
        --horizon 5 --out train.csv
    tools/train_lightgbm.py --data train.csv --out model.txt
    tickline strategy signals --bars BARS.csv --spec config/features/minute-alpha.yaml \
        --model model.txt --out signals.csv

Feature columns are every column except `bar`, `close`, `time`, `symbol`, `price`,
`fwd_return_*` and `label_*`; the
model's feature names are the registry's feature names, which is how the engine maps its
feature vector onto the model's inputs. Empty cells are missing values (LightGBM NaN).

The split is by time, never shuffled: the first (1 - valid_fraction) of the rows train, the
rest validate, with `--gap` rows (default: the label horizon) dropped between them so no
training label looks into the validation period. Training is deterministic (one thread,
fixed seed, `deterministic=True`): the same file and arguments give the same model.txt.

Needs `lightgbm` (PyPI) and numpy; `scripts/bootstrap --python` installs them.
"""

import argparse
import csv
import math
import re
import sys


def read_export(path):
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            sys.exit(f"{path}: empty file")
        rows = [row for row in reader if row]
    return header, rows


def as_float(cell, path, line, column):
    if cell == "":
        return math.nan
    try:
        return float(cell)
    except ValueError:
        sys.exit(f"{path}:{line}: column {column}: not a number: {cell!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="CSV written by `tickline features export`")
    parser.add_argument("--out", required=True, help="where to write model.txt")
    parser.add_argument("--label", default="label_up",
                        help="label column: label_up trains a binary classifier, fwd_return_H a regression")
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--num-leaves", type=int, default=31)
    parser.add_argument("--max-depth", type=int, default=-1)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--min-data-in-leaf", type=int, default=50)
    parser.add_argument("--valid-fraction", type=float, default=0.2)
    parser.add_argument("--gap", type=int, default=None, help="rows dropped between train and validation (default: horizon)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    try:
        import lightgbm as lgb
        import numpy as np
    except ImportError as error:
        sys.exit(f"train_lightgbm: {error}; install with `scripts/bootstrap --python` or `pip install lightgbm numpy`")

    header, rows = read_export(args.data)
    if args.label not in header:
        sys.exit(f"{args.data}: no column {args.label!r} (columns: {', '.join(header)})")
    excluded = {"bar", "close", "time", "symbol", "price"}
    features = [name for name in header
                if name not in excluded and not name.startswith("fwd_return_") and not name.startswith("label_")]
    if not features:
        sys.exit(f"{args.data}: no feature columns")
    label_index = header.index(args.label)
    feature_index = [header.index(name) for name in features]

    x, y = [], []
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            sys.exit(f"{args.data}:{line}: {len(row)} cells, header has {len(header)}")
        label = as_float(row[label_index], args.data, line, args.label)
        if math.isnan(label):
            continue
        x.append([as_float(row[i], args.data, line, header[i]) for i in feature_index])
        y.append(label)
    if len(y) < 100:
        sys.exit(f"{args.data}: only {len(y)} labelled rows; need at least 100")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)

    horizon = re.search(r"(\d+)$", next((h for h in header if h.startswith("fwd_return_")), "fwd_return_0"))
    gap = args.gap if args.gap is not None else int(horizon.group(1)) if horizon else 0
    split = int(len(y) * (1 - args.valid_fraction))
    if split - gap < 50 or len(y) - split < 10:
        sys.exit(f"{args.data}: {len(y)} rows are too few for a {args.valid_fraction} validation split with gap {gap}")

    binary = args.label.startswith("label_")
    params = {
        "objective": "binary" if binary else "regression",
        "metric": ["auc", "binary_logloss"] if binary else ["l2"],
        "num_leaves": args.num_leaves,
        "max_depth": args.max_depth,
        "learning_rate": args.learning_rate,
        "min_data_in_leaf": args.min_data_in_leaf,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "seed": args.seed,
        "deterministic": True,
        "num_threads": 1,
        "verbose": -1,
    }
    train = lgb.Dataset(x[: split - gap], label=y[: split - gap], feature_name=features, free_raw_data=False)
    valid = lgb.Dataset(x[split:], label=y[split:], reference=train)
    results = {}
    booster = lgb.train(params, train, num_boost_round=args.trees, valid_sets=[valid], valid_names=["valid"],
                        callbacks=[lgb.record_evaluation(results)])
    booster.save_model(args.out)

    last = {metric: values[-1] for metric, values in results["valid"].items()}
    summary = ", ".join(f"{metric} {value:.5f}" for metric, value in sorted(last.items()))
    base = float(np.mean(y[split:]))
    print(f"train_lightgbm: {split - gap} train rows, {len(y) - split} validation rows, {len(features)} features, "
          f"{args.trees} trees; validation {summary}; validation label mean {base:.5f}; wrote {args.out}")


if __name__ == "__main__":
    main()
