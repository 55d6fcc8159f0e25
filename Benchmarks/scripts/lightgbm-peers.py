#!/usr/bin/env python3
"""LightGBM and lleaves per-row prediction time on a reference model's oracle rows (repeated),
for comparison with `tickline model bench` on the same rows. Needs `pip install lightgbm lleaves
'llvmlite<0.44'` (lleaves 1.3 uses llvmlite's legacy pass manager).

Usage: Benchmarks/scripts/lightgbm-peers.py MODEL_NAME [ROWS=100000]   (models in ../shared/data/lightgbm-models)
"""
import csv, os, sys, time

import lightgbm as lgb
import lleaves
import numpy as np
m = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
shared = os.environ.get("TICKLINE_SHARED_DATA") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/data")
d = f"{shared}/lightgbm-models/{m}"
r = list(csv.reader(open(f'{d}/model.expected.csv')))
h = r[0]; fcols = [i for i, c in enumerate(h) if not c.startswith('raw') and not c.startswith('pred')]
base = np.array([[float(x[i]) if x[i] not in ('', 'nan') else np.nan for i in fcols] for x in r[1:]])
X = np.tile(base, (rows // len(base) + 1, 1))[:rows]
b = lgb.Booster(model_file=f'{d}/model.txt')
t = []
for _ in range(5):
    t0 = time.perf_counter(); b.predict(X, num_threads=1); t.append(time.perf_counter() - t0)
t.sort(); print(f"lightgbm batch ns/row median {t[2]/rows*1e9:.1f}")
ll = lleaves.Model(model_file=f'{d}/model.txt'); ll.compile()
t = []
for _ in range(5):
    t0 = time.perf_counter(); ll.predict(X, n_jobs=1); t.append(time.perf_counter() - t0)
t.sort(); print(f"lleaves  batch ns/row median {t[2]/rows*1e9:.1f}")
