#!/usr/bin/env python3
"""Baselines for boltzcl: scikit-learn's BernoulliRBM and a typical PyTorch
tutorial RBM on Fashion-MNIST, plus boltzcl model files, all scored by the
same numpy code.

Data: the IDX gz files of Debian's dataset-fashion-mnist (or --data-dir),
read with gzip + numpy, scaled to [0, 1] float32 (no binarization).

Split (--split):
  tail     (default) validation = the last 3000 of the 60000 training
           images, training = the first 57000.
  boltzcl  the split `boltzcl train` makes with --val-split F --seed S
           (splitmix64 Fisher-Yates, validation = the first round(n*F) rows
           of the permutation), so a boltzcl model can be scored on exactly
           the rows it did not see.  Use --val-fraction / --split-seed.
  --full   train on all 60000 rows; validation figures are then on rows
           that were trained on (the test-set figures stay clean).
Every model is also scored on the 10000 t10k test images.

Metrics (all float64 numpy from W [n_visible, n_hidden], vbias, hbias):
  pseudo_ll         mean over rows of -n_visible * softplus(F(v) - F(v~)),
                    v~ = v with one entry i flipped to 1 - v_i, i drawn by
                    np.random.RandomState(--seed).randint(0, n_visible, n);
                    identical to BernoulliRBM.score_samples with
                    random_state=--seed (we also report sklearn's own).
  recon_mse         mean over entries of (v - sig(sig(vW + c) W^T + b))^2
                    (mean-field reconstruction, no sampling).
  mean_free_energy  mean of F(v) = -v.b - sum_j softplus(c_j + (vW)_j).
  free_energy_gap   mean F(first 2000 validation rows) - mean F(first 2000
                    training rows): boltzcl train's overfitting monitor.

Timing: time.perf_counter around the training loop only (data already in
memory); os.getloadavg() is recorded next to each timing.

sklearn modes (--sklearn-mode):
  fit      (default) one BernoulliRBM.fit with n_iter=E on float32 data,
           what users do; seconds/epoch = total / E.  (Note: BernoulliRBM
           trains with persistent CD, i.e. SML, not CD-1.)
  partial  partial_fit per mini-batch of 100 (same batch order as fit),
           each epoch timed separately.  partial_fit casts to float64, so
           it is slower than fit.

PyTorch (optional: skipped with a note if torch is not importable): the
classic tutorial RBM: W ~ N(0, 0.01^2) (std 0.01), zero biases, CD-1 with a
sampled hidden layer and mean-field visible reconstruction, momentum 0.5,
batch 100, the same LR, no weight decay, data reshuffled each epoch,
torch.set_num_threads(--threads) (default 2), float32.
"""
import argparse
import gzip
import json
import math
import os
import platform
import struct
import sys
import time

import numpy as np

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
MONITOR_ROWS = 2000


# ---------------------------------------------------------------- data -----

def load_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    a = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if a.size != int(np.prod(dims)):
        raise ValueError(f"{path}: size does not match header {dims}")
    return a.reshape(dims)


def load_images(data_dir, split):
    x = load_idx(os.path.join(data_dir, f"{split}-images-idx3-ubyte.gz"))
    return (x.reshape(x.shape[0], -1).astype(np.float32) / np.float32(255.0))


def splitmix64(state):
    M = (1 << 64) - 1
    state = (state + 0x9E3779B97F4A7C15) & M
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return state, z ^ (z >> 31)


def boltzcl_split(n, fraction, seed):
    """Row indices (val, train) as src/io/dataset.c bz_dataset_split makes them."""
    M = (1 << 64) - 1
    n_val = int(math.floor(n * fraction + 0.5))
    perm = list(range(n))
    state = seed & M
    for i in range(n - 1, 0, -1):
        bound = i + 1
        limit = M - M % bound
        while True:
            state, r = splitmix64(state)
            if r < limit:
                break
        j = r % bound
        perm[i], perm[j] = perm[j], perm[i]
    perm = np.asarray(perm, dtype=np.int64)
    return perm[:n_val], perm[n_val:]


# ------------------------------------------------------------- metrics -----

def softplus(x):
    return np.logaddexp(0.0, x)


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def free_energy(v, W, b, c):
    return -(v @ b) - softplus(v @ W + c).sum(axis=1)


def metrics(W, b, c, x, seed, chunk=5000):
    """Same numbers for every model. W [nv, nh], b [nv], c [nh]; x float32."""
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    n, nv = x.shape
    flip = np.random.RandomState(seed).randint(0, nv, n)
    sq = fe_sum = pll_sum = 0.0
    for s in range(0, n, chunk):
        v = x[s:s + chunk].astype(np.float64)
        rows = np.arange(v.shape[0])
        ph = sigmoid(v @ W + c)
        pv = sigmoid(ph @ W.T + b)
        sq += float(((v - pv) ** 2).sum())
        f0 = free_energy(v, W, b, c)
        vt = v.copy()
        idx = flip[s:s + chunk]
        vt[rows, idx] = 1.0 - vt[rows, idx]
        f1 = free_energy(vt, W, b, c)
        fe_sum += float(f0.sum())
        pll_sum += float((-nv * softplus(f0 - f1)).sum())
    return {"rows": int(n), "pseudo_ll": pll_sum / n, "recon_mse": sq / (n * nv),
            "mean_free_energy": fe_sum / n}


def score_all(W, b, c, sets, seed):
    out = {}
    for name, x in sets["eval"].items():
        out[name] = metrics(W, b, c, x, seed)
    fv = free_energy(sets["val"][:MONITOR_ROWS].astype(np.float64), W.astype(np.float64),
                     b.astype(np.float64), c.astype(np.float64)).mean()
    ft = free_energy(sets["train"][:MONITOR_ROWS].astype(np.float64), W.astype(np.float64),
                     b.astype(np.float64), c.astype(np.float64)).mean()
    out["free_energy_gap"] = float(fv - ft)
    return out


def load_avg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# ------------------------------------------------------------- sklearn -----

def run_sklearn(args, sets):
    import sklearn
    from sklearn.neural_network import BernoulliRBM
    from sklearn.utils import gen_even_slices

    xtr = sets["train"]
    np.random.seed(args.seed)
    rbm = BernoulliRBM(n_components=args.hidden, learning_rate=args.lr, batch_size=100,
                       n_iter=args.epochs if args.sklearn_mode == "fit" else 1,
                       random_state=args.seed)
    res = {"library": f"scikit-learn {sklearn.__version__}", "mode": args.sklearn_mode,
           "epochs": args.epochs, "lr": args.lr, "hidden": args.hidden, "batch_size": 100,
           "train_rows": int(xtr.shape[0]), "load_before": load_avg()}
    if args.sklearn_mode == "fit":
        t0 = time.perf_counter()
        rbm.fit(xtr)
        total = time.perf_counter() - t0
        res["seconds_total"] = total
        res["seconds_per_epoch"] = total / args.epochs
    else:
        n = xtr.shape[0]
        nb = int(np.ceil(n / 100))
        slices = list(gen_even_slices(nb * 100, nb, n_samples=n))
        per = []
        for _ in range(args.epochs):
            t0 = time.perf_counter()
            for sl in slices:
                rbm.partial_fit(xtr[sl])
            per.append(time.perf_counter() - t0)
        res["epoch_seconds"] = per
        res["seconds_total"] = sum(per)
        res["seconds_per_epoch"] = sum(per) / len(per)
    res["load_after"] = load_avg()
    W = rbm.components_.T
    res.update(score_all(W, rbm.intercept_visible_, rbm.intercept_hidden_, sets, args.seed))
    np.random.seed(args.seed)
    res["sklearn_score_samples_val"] = float(rbm.score_samples(sets["val"]).mean())
    return res


# ------------------------------------------------------------- pytorch -----

def run_torch(args, sets):
    try:
        import torch
    except ImportError as e:
        return {"skipped": f"torch not importable ({e})"}
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    xtr = torch.from_numpy(sets["train"])
    n, nv = xtr.shape
    nh, lr, mom, bs = args.hidden, args.lr, 0.5, 100
    W = torch.randn(nv, nh, generator=g) * 0.01
    b = torch.zeros(nv)
    c = torch.zeros(nh)
    dW, db, dc = torch.zeros_like(W), torch.zeros_like(b), torch.zeros_like(c)
    res = {"library": f"torch {torch.__version__}", "threads": torch.get_num_threads(),
           "epochs": args.epochs, "lr": lr, "hidden": nh, "batch_size": bs, "momentum": mom,
           "train_rows": int(n), "load_before": load_avg()}
    per = []
    with torch.no_grad():
        for _ in range(args.epochs):
            t0 = time.perf_counter()
            order = torch.randperm(n, generator=g)
            for s in range(0, n, bs):
                v0 = xtr[order[s:s + bs]]
                ph0 = torch.sigmoid(v0 @ W + c)
                h0 = torch.bernoulli(ph0, generator=g)
                v1 = torch.sigmoid(h0 @ W.t() + b)
                ph1 = torch.sigmoid(v1 @ W + c)
                m = v0.shape[0]
                dW.mul_(mom).add_((v0.t() @ ph0 - v1.t() @ ph1) / m)
                db.mul_(mom).add_((v0 - v1).mean(0))
                dc.mul_(mom).add_((ph0 - ph1).mean(0))
                W.add_(dW, alpha=lr)
                b.add_(db, alpha=lr)
                c.add_(dc, alpha=lr)
            per.append(time.perf_counter() - t0)
    res["load_after"] = load_avg()
    res["epoch_seconds"] = per
    res["seconds_total"] = sum(per)
    res["seconds_per_epoch"] = sum(per) / len(per)
    res.update(score_all(W.numpy(), b.numpy(), c.numpy(), sets, args.seed))
    return res


# ------------------------------------------------------- boltzcl models -----

def read_safetensors(path):
    """Plain-numpy safetensors reader: {name: array}, metadata."""
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    if hlen > len(raw) - 8:
        raise ValueError(f"{path}: header length {hlen} exceeds the file")
    header = json.loads(raw[8:8 + hlen].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + hlen
    dtypes = {"F32": "<f4", "F64": "<f8", "F16": "<f2"}
    tensors = {}
    for name, d in header.items():
        if d["dtype"] not in dtypes:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {d['dtype']}")
        lo, hi = d["data_offsets"]
        a = np.frombuffer(raw[base + lo:base + hi], dtype=dtypes[d["dtype"]])
        tensors[name] = a.reshape(d["shape"])
    return tensors, meta


def run_model(path, args, sets):
    t, meta = read_safetensors(path)
    W, b, c = t["W"], t["vbias"], t["hbias"]
    nv = sets["val"].shape[1]
    if W.shape != (nv, c.shape[0]) or b.shape != (nv,):
        raise ValueError(f"{path}: W {W.shape}, vbias {b.shape}, hbias {c.shape} do not fit "
                         f"{nv} visible units")
    res = {"model": path, "metadata": meta, "hidden": int(W.shape[1])}
    notes = []
    if meta.get("visible", "bernoulli") != "bernoulli" or meta.get("hidden", "bernoulli") != "bernoulli":
        notes.append("not a Bernoulli-Bernoulli RBM: these formulas do not apply")
    if meta.get("preprocess_binarize", "none") != "none":
        notes.append("model was trained on binarized data; scored here on [0,1] grey levels")
    if notes:
        res["notes"] = notes
    res.update(score_all(W, b, c, sets, args.seed))
    return res


# ---------------------------------------------------------------- main -----

def table(out):
    lines = [f"data: {out['data']}", f"host: {out['host']}"]
    hdr = (f"{'run':<34}{'s/epoch':>9}  {'load':>5}  {'set':<5}{'PLL':>10}"
           f"{'recon MSE':>11}{'mean F':>10}{'F gap':>8}")
    lines.append(hdr)
    lines.append("-" * len(hdr))
    for name, r in out["runs"].items():
        if "skipped" in r:
            lines.append(f"{name:<34}skipped: {r['skipped']}")
            continue
        spe = f"{r['seconds_per_epoch']:.2f}" if "seconds_per_epoch" in r else "-"
        ld = f"{r['load_before'][0]:.2f}" if r.get("load_before") else "-"
        first = True
        for s in ("val", "test"):
            if s not in r:
                continue
            m = r[s]
            gap = f"{r['free_energy_gap']:.3f}" if first else ""
            lines.append(f"{name if first else '':<34}{spe if first else '':>9}  "
                         f"{ld if first else '':>5}  {s:<5}{m['pseudo_ll']:>10.3f}"
                         f"{m['recon_mse']:>11.5f}{m['mean_free_energy']:>10.3f}{gap:>8}")
            first = False
        if "sklearn_score_samples_val" in r:
            lines.append(f"{'':<34}{'':>9}  {'':>5}  sklearn score_samples(val) mean = "
                         f"{r['sklearn_score_samples_val']:.3f}")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__[__doc__.index("\n\n") + 2:])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--hidden", type=int, default=500)
    p.add_argument("--seed", type=int, default=0, help="numpy/torch seed and PLL flips (0)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (2)")
    p.add_argument("--full", action="store_true", help="train on all 60000 training rows")
    p.add_argument("--split", choices=("tail", "boltzcl"), default="tail")
    p.add_argument("--val-fraction", type=float, default=0.05, help="--split boltzcl (0.05)")
    p.add_argument("--split-seed", type=int, default=1, help="--split boltzcl (1)")
    p.add_argument("--sklearn-mode", choices=("fit", "partial"), default="fit")
    p.add_argument("--skip-sklearn", action="store_true")
    p.add_argument("--skip-torch", action="store_true")
    p.add_argument("--model", action="append", default=[], metavar="FILE.safetensors",
                   help="score a boltzcl RBM file (repeatable)")
    p.add_argument("--no-test", action="store_true", help="skip the t10k test-set figures")
    p.add_argument("--data-dir", default=DEFAULT_DATA)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args()
    if args.epochs < 1 or args.lr <= 0 or args.hidden < 1:
        p.error("--epochs >= 1, --lr > 0, --hidden >= 1")

    allx = load_images(args.data_dir, "train")
    if args.split == "tail":
        val_idx = np.arange(allx.shape[0] - 3000, allx.shape[0])
        tr_idx = np.arange(0, allx.shape[0] - 3000)
        split_desc = "validation = last 3000 training images"
    else:
        val_idx, tr_idx = boltzcl_split(allx.shape[0], args.val_fraction, args.split_seed)
        split_desc = (f"boltzcl split (val fraction {args.val_fraction}, seed {args.split_seed}): "
                      f"{len(val_idx)} validation rows")
    if args.full:
        tr_idx = np.arange(allx.shape[0])
        split_desc += "; --full: training on all 60000 (validation rows included)"
    sets = {"train": np.ascontiguousarray(allx[tr_idx]), "val": np.ascontiguousarray(allx[val_idx])}
    sets["eval"] = {"val": sets["val"]}
    if not args.no_test:
        sets["eval"]["test"] = load_images(args.data_dir, "t10k")

    out = {"data": f"fashion-mnist, [0,1] float32; {split_desc}; train rows {len(tr_idx)}",
           "host": f"{platform.node()} {os.cpu_count()} cpus, python {platform.python_version()}, "
                   f"numpy {np.__version__}",
           "seed": args.seed, "runs": {}}
    if not args.skip_sklearn:
        out["runs"][f"sklearn {args.sklearn_mode} lr={args.lr} E={args.epochs}"] = \
            run_sklearn(args, sets)
    if not args.skip_torch:
        out["runs"][f"torch CD-1 lr={args.lr} E={args.epochs}"] = run_torch(args, sets)
    for m in args.model:
        out["runs"][f"boltzcl {os.path.basename(m)}"] = run_model(m, args, sets)

    if args.json:
        print(json.dumps(out, indent=1))
    else:
        print(table(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
