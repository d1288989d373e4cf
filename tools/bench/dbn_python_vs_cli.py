"""DBNClassifier from Python against `boltzcl train dbn` with the README's
Fashion-MNIST recipe (784-500-500-10, pretraining 10 epochs per layer,
fine-tuning at most 50 epochs with patience 25, learning rate 0.1 decaying
by 0.1 per epoch, dropout 0.2, batch 32), one after the other in one run:
the two should reach the same test accuracy (they run the same library
code; the validation rows differ, drawn by each side's own generator).

    python3 tools/bench/dbn_python_vs_cli.py [--seeds 1] [--device cpu]
"""
import argparse
import gzip
import json
import os
import shutil
import subprocess
import tempfile
import time

import numpy as np

import boltzcl
from benchlib import cpu_model


def idx(name):
    d = os.path.join(os.environ.get("BOLTZCL_DATA_DIR", "/usr/share/datasets"), "fashion-mnist")
    with gzip.open(os.path.join(d, name), "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[4:8], "big")
    if raw[3] == 3:
        return (np.frombuffer(raw, np.uint8, offset=16).reshape(n, 784) / 255.0).astype(
            np.float32)
    return np.frombuffer(raw, np.uint8, offset=8).astype(np.int64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=1, help="seeds 1..N")
    ap.add_argument("--device", default=None)
    a = ap.parse_args()
    cli = os.environ.get("BOLTZCL_CLI") or shutil.which("boltzcl")
    if not cli:
        raise SystemExit("set BOLTZCL_CLI to the boltzcl command")
    X, y = idx("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz")
    Xt, yt = idx("t10k-images-idx3-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz")
    print(f"CPU: {cpu_model()}; load average {os.getloadavg()[0]:.2f}", flush=True)
    tmp = tempfile.mkdtemp(prefix="dbn-py-cli-")
    rows = []
    for seed in range(1, a.seeds + 1):
        cmd = [cli, "train", "dbn", "--data", "fashion-mnist", "--test", "fashion-mnist:test",
               "--layers", "500,500", "--pretrain-epochs", "10", "--finetune-epochs", "50",
               "--patience", "25", "--lr", "0.1", "--lr-decay", "0.1", "--dropout", "0.2",
               "--batch", "32", "--seed", str(seed), "--out", os.path.join(tmp, "d.st"),
               "--overwrite", "--quiet", "--json"]
        if a.device:
            cmd += ["--device", a.device]
        t = time.perf_counter()
        res = json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                        text=True).stdout.strip().splitlines()[-1])
        cli_s = time.perf_counter() - t
        cli_acc = res["test_accuracy"]
        print(f"seed {seed} command: test accuracy {cli_acc:.4f}, {cli_s:.0f} s", flush=True)
        clf = boltzcl.DBNClassifier(hidden_layer_sizes=(500, 500), pretrain_epochs=10,
                                    finetune_epochs=50, patience=25, learning_rate=0.1,
                                    lr_decay=0.1, dropout=0.2, batch_size=32,
                                    random_state=seed, device=a.device)
        t = time.perf_counter()
        clf.fit(X, y)
        py_s = time.perf_counter() - t
        py_acc = clf.score(Xt, yt)
        print(f"seed {seed} Python:  test accuracy {py_acc:.4f}, {py_s:.0f} s "
              f"(best epoch {clf.best_epoch_}, validation {clf.best_validation_score_:.4f})",
              flush=True)
        rows.append((seed, cli_acc, py_acc, cli_s, py_s))
    print("| seed | command test accuracy | Python test accuracy | command s | Python s |")
    print("| --- | --- | --- | --- | --- |")
    for s, ca, pa, cs, ps in rows:
        print(f"| {s} | {100 * ca:.2f}% | {100 * pa:.2f}% | {cs:.0f} | {ps:.0f} |")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
