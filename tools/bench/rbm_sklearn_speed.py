"""BernoulliRBM.fit from Python: boltzcl against scikit-learn with the same
parameters (784-500 on the 60,000 Fashion-MNIST training images scaled to
[0, 1], batch 100, learning rate 0.1, PCD-1 as scikit-learn runs it, no
momentum or weight decay), and against `boltzcl train rbm` doing the same
training, alternating the programs ROUNDS times in one run so that all see
the same machine.

scikit-learn is timed at 1 and at 2 BLAS threads (threadpoolctl) and its
best median is the baseline. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, when
set, are removed (the script restarts itself without them) so that
OpenBLAS picks its own kernels for this CPU.

Prints each fit, the ratio of the medians (boltzcl / scikit-learn's best;
below 1 means boltzcl is faster), and the Python layer's cost: boltzcl's
fit time against the command's own training time (its --json `seconds`)
for the same epochs.

    python3 tools/bench/rbm_sklearn_speed.py [--epochs 10] [--rounds 3] [--rows N]
"""
import os
import sys

_BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(v in os.environ for v in _BLAS_VARS):
    env = {k: v for k, v in os.environ.items() if k not in _BLAS_VARS}
    print(f"(restarting without {' and '.join(_BLAS_VARS)})", flush=True)
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.neural_network import BernoulliRBM as SkBernoulliRBM  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import boltzcl  # noqa: E402
from benchlib import cpu_model  # noqa: E402


def fashion_mnist():
    d = os.path.join(os.environ.get("BOLTZCL_DATA_DIR", "/usr/share/datasets"), "fashion-mnist")
    with gzip.open(os.path.join(d, "train-images-idx3-ubyte.gz"), "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[4:8], "big")
    return (np.frombuffer(raw, np.uint8, offset=16).reshape(n, 784) / 255.0).astype(np.float32)


def cli_path():
    p = os.environ.get("BOLTZCL_CLI") or shutil.which("boltzcl")
    if not p:
        here = os.path.dirname(os.path.abspath(__file__))
        p = os.path.join(here, "..", "..", "build", "src", "cli", "boltzcl")
    return p if os.access(p, os.X_OK) else None


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
    cli = cli_path()
    tmp = tempfile.mkdtemp(prefix="rbm-speed-")
    csv = None
    if cli and a.rows:
        # the same rows for the command: label first, then the pixels 0..255
        csv = os.path.join(tmp, "rows.csv")
        np.savetxt(csv, np.hstack([np.zeros((X.shape[0], 1)), np.rint(X * 255)]), fmt="%d",
                   delimiter=",")
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; device: {boltzcl.devices()[0]['name']}; "
          f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    peers = ["boltzcl", "scikit-learn 1 thread", "scikit-learn 2 threads"]
    if cli:
        peers.append("boltzcl command")
    times = {p: [] for p in peers}
    cli_train = []
    lib_share = []
    boltzcl.BernoulliRBM(n_components=8, n_iter=1, device=a.device).fit(X[:200])  # warm-up
    for r in range(a.rounds):
        for name in peers:
            t = time.perf_counter()
            if name == "boltzcl":
                rbm = boltzcl.BernoulliRBM(device=a.device, **params).fit(X)
                lib_share.append(rbm.train_seconds_ / (time.perf_counter() - t))
            elif name.startswith("scikit-learn"):
                with threadpool_limits(limits=int(name.split()[1])):
                    SkBernoulliRBM(**params).fit(X)
            else:
                out = os.path.join(tmp, f"m{r}.safetensors")
                cmd = [cli, "train", "rbm", "--data", csv or "fashion-mnist", "--hidden", "500",
                       "--batch", "100", "--lr", "0.1", "--pcd", "--k", "1", "--momentum", "0",
                       "--final-momentum", "0", "--weight-decay", "0", "--binarize", "none",
                       "--val-split", "0", "--epochs", str(a.epochs), "--seed", "1",
                       "--out", out, "--checkpoint", os.path.join(tmp, f"c{r}.ckpt"),
                       "--overwrite", "--quiet", "--json"]
                if a.device:
                    cmd += ["--device", a.device]
                res = subprocess.run(cmd, check=True, capture_output=True, text=True)
                cli_train.append(json.loads(res.stdout.strip().splitlines()[-1])["seconds"])
            dt = time.perf_counter() - t
            times[name].append(dt)
            print(f"round {r + 1} {name:24s} {dt:8.2f} s", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    best_sk = min(("scikit-learn 1 thread", "scikit-learn 2 threads"), key=lambda k: med[k])
    ratio = med["boltzcl"] / med[best_sk]
    print(f"median fit: " + ", ".join(f"{k} {v:.2f} s" for k, v in med.items()))
    print(f"ratio boltzcl / {best_sk} (the faster peer): {ratio:.3f}")
    print("library training time / boltzcl fit time: "
          + ", ".join(f"{x:.3f}" for x in lib_share))
    over = None
    if cli_train:
        over = med["boltzcl"] / statistics.median(cli_train) - 1
        print(f"the command's training time (median of its --json seconds): "
              f"{statistics.median(cli_train):.2f} s; boltzcl's Python fit takes "
              f"{100 * over:+.1f}% more")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(json.dumps({"cpu": cpu_model(), "rows": int(X.shape[0]), "epochs": a.epochs,
                      "rounds": a.rounds, "seconds": times, "cli_train_s": cli_train,
                      "ratio_median": ratio, "sklearn_best": best_sk,
                      "python_over_cli": over, "library_share": lib_share,
                      "device": boltzcl.devices()[0]["name"]}))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
