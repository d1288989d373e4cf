#!/usr/bin/env python3
"""Collaborative filtering on MovieLens: boltzcl's ratings RBM against the
usual baselines on the same seeded 90/10 split, in the same run.

  python3 cf_movielens.py --boltzcl build/src/cli/boltzcl --ratings ratings.csv

The split is scikit-surprise's train_test_split(test_size=0.1,
random_state=SEED) of the ratings file (MovieLens ratings.csv with its
header, or u.data / ratings.dat); both halves are written to a temporary
folder and boltzcl trains on them through its command line (train cf
--ratings TRAIN --test TEST). Baselines from scikit-surprise: the global
mean, user and item biases (BaselineOnly), SVD and SVD++. Speed: a PyTorch
RBM-CF of the same sizes (the same dense masked minibatches, CD-1), its
epoch timed at 1 and 2 threads, the best taken, against boltzcl's CD-1
epochs; the two are run alternately.

Peers (not in Debian): pip install scikit-surprise torch (a CPU build of
torch is enough). Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset.
The data's licence forbids redistribution: download it from
https://grouplens.org/datasets/movielens/ and pass its path.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import cpu_model


def load_split(path, seed):
    from surprise import Dataset, Reader
    from surprise.model_selection import train_test_split
    first = open(path).readline()
    if "::" in first:
        reader = Reader(line_format="user item rating timestamp", sep="::")
    elif "\t" in first:
        reader = Reader(line_format="user item rating timestamp", sep="\t")
    else:
        header = not first.split(",")[0].strip().isdigit()
        reader = Reader(line_format="user item rating timestamp" if first.count(",") >= 3
                        else "user item rating", sep=",", skip_lines=1 if header else 0)
    data = Dataset.load_from_file(path, reader=reader)
    # The scale the data has (half stars in ml-latest-small)
    values = {r for (_, _, r, _) in data.raw_ratings}
    lo, hi = min(values), max(values)
    reader.rating_scale = (lo, hi)
    trainset, testset = train_test_split(data, test_size=0.1, random_state=seed)
    return trainset, testset


def write_split(trainset, testset, folder):
    tr = os.path.join(folder, "train.csv")
    te = os.path.join(folder, "test.csv")
    with open(tr, "w") as f:
        for u, i, r in trainset.all_ratings():
            f.write("%s,%s,%g\n" % (trainset.to_raw_uid(u), trainset.to_raw_iid(i), r))
    with open(te, "w") as f:
        for u, i, r in testset:
            f.write("%s,%s,%g\n" % (u, i, r))
    return tr, te


def rmse_mae(pred, truth):
    n = len(truth)
    se = sum((p - t) ** 2 for p, t in zip(pred, truth))
    ae = sum(abs(p - t) for p, t in zip(pred, truth))
    return (se / n) ** 0.5, ae / n


def surprise_baselines(trainset, testset, seed, svdpp):
    from surprise import SVD, SVDpp, BaselineOnly, accuracy
    truth = [r for (_, _, r) in testset]
    rows = []
    mean = trainset.global_mean
    rows.append(("global mean", *rmse_mae([mean] * len(truth), truth), 0.0))
    algos = [("user/item biases (BaselineOnly)", lambda: BaselineOnly(verbose=False)),
             ("SVD", lambda: SVD(random_state=seed))]
    if svdpp:
        algos.append(("SVD++", lambda: SVDpp(random_state=seed)))
    for name, make in algos:
        t0 = time.perf_counter()
        algo = make()
        algo.fit(trainset)
        pred = algo.test(testset)
        secs = time.perf_counter() - t0
        rows.append(("surprise " + name, accuracy.rmse(pred, verbose=False),
                     accuracy.mae(pred, verbose=False), secs))
    return rows


def torch_epoch_seconds(trainset, items, hidden, batch, threads, epochs=2):
    """Epoch time of a PyTorch RBM-CF with boltzcl's sizes and layout:
    rows of dense one-hot ratings with a mask, CD-1, momentum and decay."""
    import torch
    torch.set_num_threads(threads)
    K = int(round((trainset.rating_scale[1] - trainset.rating_scale[0]) / step_of(trainset))) + 1
    lo = trainset.rating_scale[0]
    st = step_of(trainset)
    rows = {}
    for u, i, r in trainset.all_ratings():
        row, col = (i, u) if items else (u, i)
        rows.setdefault(row, []).append((col, int(round((r - lo) / st))))
    n_rows = trainset.n_items if items else trainset.n_users
    C = trainset.n_users if items else trainset.n_items
    F = C * K
    g = torch.Generator().manual_seed(1)
    W = torch.randn(F, hidden, generator=g) * 0.01
    vb = torch.zeros(F)
    hb = torch.zeros(hidden)
    vW, vvb, vhb = torch.zeros_like(W), torch.zeros_like(vb), torch.zeros_like(hb)
    lr, mom, wd = 0.3, 0.5, 0.001
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        order = torch.randperm(n_rows, generator=g).tolist()
        for b0 in range(0, n_rows, batch):
            idx = order[b0:b0 + batch]
            n = len(idx)
            V = torch.zeros(n, C, K)
            M = torch.zeros(n, C)
            for r, row in enumerate(idx):
                ent = rows.get(row)
                if ent:
                    cols = torch.tensor([c for c, _ in ent])
                    ks = torch.tensor([k for _, k in ent])
                    V[r, cols, ks] = 1
                    M[r, cols] = 1
            V = V.reshape(n, F)
            P = torch.sigmoid(V @ W + hb)
            S = torch.bernoulli(P, generator=g)
            L = (S @ W.t() + vb).reshape(n, C, K)
            prob = torch.softmax(L, dim=2)
            pick = torch.multinomial(prob.reshape(-1, K), 1, generator=g).reshape(n, C)
            Vn = torch.nn.functional.one_hot(pick, K).float() * M.unsqueeze(2)
            Vn = Vn.reshape(n, F)
            Hn = torch.sigmoid(Vn @ W + hb)
            gW = V.t() @ P - Vn.t() @ Hn
            vW.mul_(mom).add_(lr * (gW / n - wd * W))
            vvb.mul_(mom).add_(lr * (V.sum(0) - Vn.sum(0)) / n)
            vhb.mul_(mom).add_(lr * (P.sum(0) - Hn.sum(0)) / n)
            W += vW
            vb += vvb
            hb += vhb
        times.append(time.perf_counter() - t0)
    return min(times)


def step_of(trainset):
    values = {r for (_, _, r) in trainset.all_ratings()}
    return 0.5 if any(v != int(v) for v in values) else 1.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--boltzcl", required=True, help="the boltzcl program")
    ap.add_argument("--ratings", required=True, help="MovieLens ratings.csv, u.data or ratings.dat")
    ap.add_argument("--seed", type=int, default=0, help="split seed (0, as the issue's figures)")
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--users", action="store_true", help="user-based RBM (default item-based)")
    ap.add_argument("--extra", default="", help="more boltzcl train cf options, one string")
    ap.add_argument("--no-svdpp", action="store_true", help="skip SVD++ (the slowest baseline)")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch speed peer")
    args = ap.parse_args()
    for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(v, None)
    items = not args.users
    trainset, testset = load_split(args.ratings, args.seed)
    print("split: %d training, %d test ratings (train_test_split(test_size=0.1, random_state=%d))"
          % (trainset.n_ratings, len(testset), args.seed), flush=True)
    torch_times = []
    with tempfile.TemporaryDirectory() as d:
        tr, te = write_split(trainset, testset, d)
        if not args.no_torch:
            for threads in (1, 2):
                torch_times.append((torch_epoch_seconds(trainset, items, args.hidden, args.batch,
                                                        threads), threads))
        cmd = [args.boltzcl, "train", "cf", "--ratings", tr, "--test", te,
               "--hidden", str(args.hidden), "--batch", str(args.batch), "--epochs",
               str(args.epochs), "--out", os.path.join(d, "cf.safetensors"),
               "--log", os.path.join(d, "log.jsonl"), "--json", "--quiet"]
        if items:
            cmd.append("--items")
        cmd += args.extra.split()
        t0 = time.perf_counter()
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
        bz_wall = time.perf_counter() - t0
        res = json.loads(out.strip().splitlines()[-1])
        epochs = [json.loads(l) for l in open(os.path.join(d, "log.jsonl"))]
        if not args.no_torch:
            for threads in (2, 1):
                torch_times.append((torch_epoch_seconds(trainset, items, args.hidden, args.batch,
                                                        threads), threads))
    rows = surprise_baselines(trainset, testset, args.seed, not args.no_svdpp)
    label = "boltzcl RBM (%s-based, %d hidden, %d epochs%s)" % (
        "item" if items else "user", args.hidden, args.epochs,
        (", " + args.extra) if args.extra else "")
    rows.append((label, res["test_rmse"], res["test_mae"], bz_wall))
    print("\n%-58s %8s %8s %9s" % ("model", "RMSE", "MAE", "seconds"))
    for name, r, m, s in rows:
        print("%-58s %8.4f %8.4f %9.1f" % (name, r, m, s))
    best = min(epochs, key=lambda e: e["test_rmse"])
    print("(boltzcl's best epoch on the test ratings: %d, RMSE %.4f; the figure above is the last)"
          % (best["epoch"], best["test_rmse"]))
    cd1 = [e["seconds"] for e in epochs if e["cd_steps"] == 1]
    if torch_times and cd1:
        bz_epoch = statistics.median(cd1)
        t_best, t_threads = min(torch_times)
        print("\nepoch time, CD-1, %d hidden, batch %d, %s-based: boltzcl %.2f s (median of %d), "
              "PyTorch %s %.2f s (best of 1 and 2 threads: %d)" % (
                  args.hidden, args.batch, "item" if items else "user", bz_epoch, len(cd1),
                  __import__("torch").__version__, t_best, t_threads))
        print("speed ratio (PyTorch / boltzcl): %.2fx" % (t_best / bz_epoch))
    print("CPU: %s, %d cores; device: %s" % (cpu_model(), os.cpu_count(), res.get("device")))
    print("date: %s" % time.strftime("%Y-%m-%d"))


if __name__ == "__main__":
    main()
