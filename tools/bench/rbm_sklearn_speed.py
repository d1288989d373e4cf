"""BernoulliRBM.fit from Python: boltzcl against scikit-learn with the same
parameters (784-500 on the 60,000 Fashion-MNIST training images scaled to
[0, 1], batch 100, learning rate 0.1, PCD-1 as scikit-learn runs it),
alternating the two ROUNDS times in one run so that both see the same
machine. Prints each fit, the ratio of the medians (boltzcl / scikit-learn;
below 1 means boltzcl is faster), and how much of boltzcl's fit time its
library spent training (the rest is the Python layer: checks, conversion,
upload, reading the parameters back).

    python3 tools/bench/rbm_sklearn_speed.py [--epochs 10] [--rounds 3] [--rows N]
"""
import argparse
import gzip
import json
import os
import statistics
import time

import numpy as np
from sklearn.neural_network import BernoulliRBM as SkBernoulliRBM

import boltzcl


def fashion_mnist():
    d = os.path.join(os.environ.get("BOLTZCL_DATA_DIR", "/usr/share/datasets"), "fashion-mnist")
    with gzip.open(os.path.join(d, "train-images-idx3-ubyte.gz"), "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[4:8], "big")
    return (np.frombuffer(raw, np.uint8, offset=16).reshape(n, 784) / 255.0).astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rows", type=int, default=0, help="first N rows only (0: all)")
    ap.add_argument("--device", default=None)
    a = ap.parse_args()
    X = fashion_mnist()
    if a.rows:
        X = X[:a.rows]
    params = dict(n_components=500, batch_size=100, learning_rate=0.1, n_iter=a.epochs,
                  random_state=0)
    times = {"boltzcl": [], "scikit-learn": []}
    lib_share = []
    boltzcl.BernoulliRBM(n_components=8, n_iter=1, device=a.device).fit(X[:200])  # warm-up
    for r in range(a.rounds):
        for name in ("boltzcl", "scikit-learn"):
            rbm = boltzcl.BernoulliRBM(device=a.device, **params) if name == "boltzcl" \
                else SkBernoulliRBM(**params)
            t = time.perf_counter()
            rbm.fit(X)
            dt = time.perf_counter() - t
            times[name].append(dt)
            if name == "boltzcl":
                lib_share.append(rbm.train_seconds_ / dt)
            print(f"round {r + 1} {name:12s} fit {dt:8.2f} s", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["boltzcl"] / med["scikit-learn"]
    print(f"median fit: boltzcl {med['boltzcl']:.2f} s, scikit-learn {med['scikit-learn']:.2f} s; "
          f"ratio boltzcl/scikit-learn {ratio:.3f}; per round "
          + ", ".join(f"{b / s:.3f}" for b, s in zip(times["boltzcl"], times["scikit-learn"])))
    print(f"library training time / boltzcl fit time: "
          + ", ".join(f"{x:.3f}" for x in lib_share))
    print(json.dumps({"rows": int(X.shape[0]), "epochs": a.epochs, "rounds": a.rounds,
                      "boltzcl_s": times["boltzcl"], "sklearn_s": times["scikit-learn"],
                      "ratio_median": ratio, "library_share": lib_share,
                      "device": boltzcl.devices()[0]["name"]}))


if __name__ == "__main__":
    main()
