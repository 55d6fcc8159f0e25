#!/usr/bin/env python3
"""Generates GeneratedLightGBMModels.swift: small LightGBM models covering every objective,
random-forest mode, zero-as-missing, multi-word categorical bitsets and linear trees, with
LightGBM's own predictions on awkward rows (NaN, ±0, ±1e-36, ±kZeroThreshold, thresholds
themselves, ±inf, unseen/negative/fractional/huge categories).

    pip install lightgbm==4.7.0 numpy
    python3 Tests/ModelsTests/LightGBM/Generated/.generate_models.py

(The script's name starts with a dot so that SwiftPM does not list it as an unhandled file of
the test target.) Deterministic: fixed seeds, LightGBM deterministic mode, one thread.
"""
import os
import numpy as np
import lightgbm as lgb

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "GeneratedLightGBMModels.swift")
K_ZERO = float(np.float32(1e-35))
rng = np.random.default_rng(20261121)

BASE = {"verbose": -1, "num_threads": 1, "deterministic": True, "force_row_wise": True, "seed": 7,
        "min_data_in_leaf": 5, "min_data_per_group": 5, "cat_smooth": 1, "max_cat_to_onehot": 4}


def features(n, numeric, categorical, cardinality):
    cols = [rng.normal(size=n) * 3 for _ in range(numeric)]
    cols += [rng.integers(0, cardinality, size=n).astype(float) for _ in range(categorical)]
    X = np.column_stack(cols)
    # Missing values and exact zeros in the training data, so the trees learn default directions.
    mask = rng.random(X.shape) < 0.06
    X[mask] = np.nan
    zeros = rng.random(X.shape) < 0.04
    X[zeros & ~mask] = 0.0
    return X


def signal(X, numeric, categorical):
    y = np.zeros(len(X))
    for j in range(numeric):
        y += np.sin(np.nan_to_num(X[:, j]) * (j + 1)) + (np.isnan(X[:, j]) * 0.7)
    for j in range(numeric, numeric + categorical):
        y += (np.nan_to_num(X[:, j], nan=-1) % 7 == 3) * 1.5 - (np.nan_to_num(X[:, j]) > 40) * 0.8
    return y


def thresholds(booster):
    out = []
    for tree in booster.dump_model()["tree_info"]:
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            if "split_index" in node:
                if node["decision_type"] == "<=":
                    out.append((node["split_feature"], node["threshold"]))
                stack += [node["left_child"], node["right_child"]]
    return out


def test_rows(booster, X, numeric, categorical, count=48):
    rows = X[rng.integers(0, len(X), size=count)].copy()
    specials = [np.nan, 0.0, -0.0, 1e-36, -1e-36, K_ZERO, -K_ZERO, np.inf, -np.inf, 1e300, -1e300]
    cat_specials = [np.nan, -1.0, -0.5, 0.0, 0.5, 2.7, 31.0, 32.0, 33.0, 63.0, 64.0, 95.0, 1e10, 3e9, 2147483647.0, 97.0]
    t = thresholds(booster)
    for r in range(count):
        for j in range(numeric):
            u = rng.random()
            if u < 0.25:
                rows[r, j] = specials[rng.integers(len(specials))]
            elif u < 0.45 and t:
                feature, value = t[rng.integers(len(t))]
                if feature == j:
                    rows[r, j] = value
        for j in range(numeric, numeric + categorical):
            if rng.random() < 0.35:
                rows[r, j] = cat_specials[rng.integers(len(cat_specials))]
    return rows


def csv(booster, rows, extra):
    raw = np.atleast_2d(booster.predict(rows, raw_score=True).T).T
    pred = np.atleast_2d(booster.predict(rows).T).T
    sel = np.atleast_2d(booster.predict(rows, raw_score=True, start_iteration=1, num_iteration=2).T).T
    selpred = np.atleast_2d(booster.predict(rows, start_iteration=1, num_iteration=2).T).T
    k = raw.shape[1]
    head = [f"f{j}" for j in range(rows.shape[1])] + [f"raw{i}" for i in range(k)] + [f"pred{i}" for i in range(k)]
    head += [f"selraw{i}" for i in range(k)] + [f"selpred{i}" for i in range(k)]
    lines = [",".join(head)]
    for r in range(len(rows)):
        values = list(rows[r]) + list(raw[r]) + list(pred[r]) + list(sel[r]) + list(selpred[r])
        lines.append(",".join(repr(float(v)) for v in values))
    return "\n".join(lines) + "\n"


def train(name, params, numeric=3, categorical=0, cardinality=10, rounds=6, label=None, group=None, n=600):
    X = features(n, numeric, categorical, cardinality)
    y = signal(X, numeric, categorical)
    if label is not None:
        y = label(y)
    cats = list(range(numeric, numeric + categorical)) or "auto"
    data = lgb.Dataset(X, y, categorical_feature=cats, group=group, free_raw_data=False)
    booster = lgb.train({**BASE, **params}, data, rounds)
    rows = test_rows(booster, X, numeric, categorical)
    return name, booster.model_to_string(), csv(booster, rows, params)


def quantize(y, levels):
    return np.digitize(y, np.quantile(y, np.linspace(0, 1, levels + 1)[1:-1]))


models = [
    train("binary_sigmoid", {"objective": "binary", "sigmoid": 0.7, "num_leaves": 7}, label=lambda y: (y > 0.5).astype(float)),
    train("cross_entropy", {"objective": "cross_entropy", "num_leaves": 6}, label=lambda y: 1 / (1 + np.exp(-y))),
    train("cross_entropy_lambda", {"objective": "cross_entropy_lambda", "num_leaves": 6}, label=lambda y: 1 / (1 + np.exp(-y))),
    train("multiclass_categorical", {"objective": "multiclass", "num_class": 4, "num_leaves": 6}, numeric=2, categorical=2,
          cardinality=90, label=lambda y: quantize(y, 4)),
    train("multiclassova", {"objective": "multiclassova", "num_class": 3, "sigmoid": 1.3, "num_leaves": 5},
          label=lambda y: quantize(y, 3)),
    train("regression_l1", {"objective": "regression_l1", "num_leaves": 6}),
    train("regression_sqrt", {"objective": "regression", "reg_sqrt": True, "num_leaves": 6}),
    train("huber", {"objective": "huber", "num_leaves": 6}),
    train("fair", {"objective": "fair", "num_leaves": 6}),
    train("quantile", {"objective": "quantile", "alpha": 0.3, "num_leaves": 6}),
    train("mape", {"objective": "mape", "num_leaves": 6}, label=lambda y: y + 5),
    train("poisson", {"objective": "poisson", "num_leaves": 6}, label=lambda y: np.round(np.exp(y / 2))),
    train("gamma", {"objective": "gamma", "num_leaves": 6}, label=lambda y: np.exp(y / 3) + 0.1),
    train("tweedie", {"objective": "tweedie", "num_leaves": 6}, label=lambda y: np.maximum(y, 0)),
    train("lambdarank", {"objective": "lambdarank", "num_leaves": 6}, label=lambda y: quantize(y, 4), group=[20] * 30),
    train("rank_xendcg", {"objective": "rank_xendcg", "num_leaves": 6}, label=lambda y: quantize(y, 4), group=[20] * 30),
    train("random_forest", {"objective": "regression", "boosting": "rf", "bagging_freq": 1, "bagging_fraction": 0.6,
                            "feature_fraction": 0.8, "num_leaves": 8}, numeric=3, categorical=1, cardinality=40),
    train("zero_as_missing", {"objective": "regression", "zero_as_missing": True, "num_leaves": 8}),
    train("categorical_wide", {"objective": "regression", "num_leaves": 12, "max_cat_threshold": 64}, numeric=1,
          categorical=2, cardinality=100),
    train("no_missing", {"objective": "regression", "use_missing": False, "num_leaves": 8}, numeric=2, categorical=1,
          cardinality=12),
    train("zero_as_missing_categorical", {"objective": "regression", "zero_as_missing": True, "num_leaves": 10},
          numeric=2, categorical=2, cardinality=40),
]

linear = train("linear_tree", {"objective": "regression", "linear_tree": True, "num_leaves": 4}, rounds=2)

with open(OUT, "w") as out:
    out.write("// Generated by .generate_models.py in this folder (LightGBM %s); do not edit.\n" % lgb.__version__)
    out.write("// Each model: LightGBM's model_to_string() and LightGBM's predictions on awkward rows: raw*, pred*,\n")
    out.write("// and selraw*/selpred* with start_iteration=1, num_iteration=2.\n\n")
    out.write("enum GeneratedLightGBMModels {\n")
    out.write("    struct Model {\n        let name: String\n        let text: String\n        let expected: String\n    }\n\n")
    out.write("    static let all: [Model] = [\n")
    for name, text, expected in models:
        out.write('        Model(name: "%s", text: modelText_%s, expected: expected_%s),\n' % (name, name, name))
    out.write("    ]\n\n")
    out.write("    /// A linear-tree model (is_linear=1), which the loader refuses.\n")
    out.write("    static let linearTree = #\"\"\"\n%s\"\"\"#\n" % linear[1])
    out.write("}\n")
    for name, text, expected in models:
        out.write("\nprivate let modelText_%s = #\"\"\"\n%s\"\"\"#\n" % (name, text))
        out.write("\nprivate let expected_%s = \"\"\"\n%s\"\"\"\n" % (name, expected))
print("wrote", OUT, os.path.getsize(OUT), "bytes")
