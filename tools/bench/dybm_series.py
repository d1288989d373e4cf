#!/usr/bin/env python3
"""One-step-ahead forecasts of real time series: boltzcl's Gaussian DyBM
against a VAR/AR model fitted by statsmodels with the same look-back, a
small PyTorch LSTM with the same inputs, and persistence (x[t-1] predicts
x[t]); one table, ratios to the peers, all from one run.

Series (they ship with statsmodels on PyPI, no download at run time):
  sunspots   statsmodels.api.datasets.sunspots: yearly sunspot numbers,
             1700-2008 (309 steps, 1 variable).
  macro      statsmodels.api.datasets.macrodata: US quarterly real GDP,
             consumption and investment, 1959-2009, as 100 x log
             differences (202 steps, 3 variables).
  sunspots_m pmdarima's monthly sunspots (2820 steps), when pmdarima is
             installed.
Every model sees the first (1 - --test-split) of the steps and forecasts the
held-out tail one step ahead from the true history; RMSE in the series' own
units over all variables of the tail.

Choices are made on a validation split alone (fit on the first 80% of the
training part, scored on its last 20%), never on the tail: the look-back p
(VAR/AR order, from --lags) by the VAR/AR's validation RMSE, then used by all
three; the DyBM's decay rates and optimiser settings from a small grid by its
validation RMSE; the LSTM's epoch count by its validation loss.

  boltzcl  `boltzcl train dybm --series FILE --delay p+1 --decays ...
           --test-split F --json` (test_rmse, persistence_rmse, seconds):
           the FIFO holds the p lags, the traces the older past; online
           learning over the training part each epoch, the tail predicted
           without learning.
  VAR/AR   statsmodels VAR (or AutoReg for one variable) of order p, least
           squares on the training part, with a constant.
  LSTM     one LSTM layer (32 units) on the same p standardised lags,
           a linear read-out, Adam, mean squared error, the epoch count
           chosen on the last 20% of the training part; timed at 1 and 2
           threads, the faster kept.

Install the peers in a venv: pip install statsmodels torch (and pmdarima
for the monthly series; where the venv sees Debian's older scikit-learn,
also pip install --ignore-installed scikit-learn); numpy comes with them.
Run: OPENBLAS_CORETYPE= OPENBLAS_L2_SIZE= unset, then
  python3 tools/bench/dybm_series.py --boltzcl build/src/cli/boltzcl
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from benchlib import cpu_model


def load_series():
    import statsmodels.api as sm
    out = []
    sun = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(float)
    out.append(("sunspots", sun[:, None]))
    m = sm.datasets.macrodata.load_pandas().data
    x = np.log(m[["realgdp", "realcons", "realinv"]].to_numpy(float))
    out.append(("macro", 100 * np.diff(x, axis=0)))
    try:
        import pmdarima
        ms = pmdarima.datasets.load_sunspots(as_series=False)
        out.append(("sunspots_m", np.asarray(ms, float)[:, None]))
    except Exception:  # not installed: the table has the two others
        pass
    return out


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def var_forecast(x, n_train, p):
    """One-step forecasts of x[n_train:] from an order-p VAR/AR fitted on
    x[:n_train] by least squares, using the true history."""
    from statsmodels.tsa.api import VAR
    from statsmodels.tsa.ar_model import AutoReg
    T, N = x.shape
    t0 = time.perf_counter()
    if N == 1:
        r = AutoReg(x[:n_train, 0], lags=p, trend="c").fit()
        c, a = r.params[0], r.params[1:]
        pred = np.array([[c + sum(a[i] * x[t - 1 - i, 0] for i in range(p))]
                         for t in range(n_train, T)])
    else:
        r = VAR(x[:n_train]).fit(p, trend="c")
        pred = np.array([r.forecast(x[t - p:t], 1)[0] for t in range(n_train, T)])
    return pred, time.perf_counter() - t0


def lstm_forecast(x, n_train, p, seed, threads):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    np.random.seed(seed)
    T, N = x.shape
    mu, sd = x[:n_train].mean(0), x[:n_train].std(0)
    sd[sd == 0] = 1
    z = ((x - mu) / sd).astype(np.float32)
    win = np.stack([z[t - p:t] for t in range(p, T)])  # (T-p, p, N)
    tgt = z[p:]
    n_tr = n_train - p
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(N, 32, batch_first=True)
            self.out = torch.nn.Linear(32, N)
        def forward(self, w):
            h, _ = self.lstm(w)
            return self.out(h[:, -1])
    def train(n_fit, epochs, val=None):
        torch.manual_seed(seed)
        net = Net()
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        X, Y = torch.tensor(win[:n_fit]), torch.tensor(tgt[:n_fit])
        best, best_e = float("inf"), 0
        for e in range(epochs):
            perm = torch.randperm(n_fit)
            for i in range(0, n_fit, 32):
                idx = perm[i:i + 32]
                opt.zero_grad()
                loss = torch.mean((net(X[idx]) - Y[idx]) ** 2)
                loss.backward()
                opt.step()
            if val is not None:
                with torch.no_grad():
                    v = float(torch.mean((net(torch.tensor(win[val[0]:val[1]])) -
                                          torch.tensor(tgt[val[0]:val[1]])) ** 2))
                if v < best:
                    best, best_e = v, e + 1
        return net, best_e
    t0 = time.perf_counter()
    n_fit = n_train - int(np.floor(0.2 * n_train)) - p
    _, epochs = train(n_fit, 200, (n_fit, n_tr))  # the epoch count on a validation tail
    net, _ = train(n_tr, max(epochs, 1))
    with torch.no_grad():
        pred = net(torch.tensor(win[n_tr:])).numpy()
    return pred * sd + mu, time.perf_counter() - t0


# The DyBM's grid: decay rates, and (optimiser, learning rate, epochs,
# learning-rate decay).
DECAYS = ["none", "0.5", "0.2,0.5,0.8"]
OPTIMISERS = [("sgd", 0.01, 20, 0.0), ("sgd", 0.005, 60, 0.0), ("rmsprop", 0.003, 60, 0.1)]


def boltzcl_run(exe, x, delay, decays, opt, test_split, name, tmp):
    path = os.path.join(tmp, name + ".csv")
    np.savetxt(path, x, delimiter=",", fmt="%.9g")
    optimiser, lr, epochs, lr_decay = opt
    cmd = [exe, "train", "dybm", "--series", path, "--delay", str(delay), "--decays", decays,
           "--optimizer", optimiser, "--epochs", str(epochs), "--lr", str(lr), "--lr-decay",
           str(lr_decay), "--test-split", str(test_split),
           "--out", os.path.join(tmp, name + ".st"), "--overwrite", "--json", "--quiet"]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit("boltzcl failed on %s: %s" % (name, r.stderr))
    return json.loads(r.stdout), wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--boltzcl", default="build/src/cli/boltzcl")
    ap.add_argument("--lags", default="2,4,9", help="look-backs p to choose from (2,4,9)")
    ap.add_argument("--test-split", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="one JSON object per series")
    args = ap.parse_args()
    lags = [int(v) for v in args.lags.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, x in load_series():
            T = len(x)
            n_test = int(np.floor(args.test_split * T))
            n_train = T - n_test
            tr = x[:n_train]
            n_fit = n_train - int(np.floor(0.2 * n_train))
            # the look-back by the VAR/AR's validation RMSE
            p = min(lags, key=lambda q: rmse(var_forecast(tr, n_fit, q)[0], tr[n_fit:]))
            # the DyBM's settings by its validation RMSE (the same split)
            grid = [(dec, opt) for dec in DECAYS for opt in OPTIMISERS]
            val = [boltzcl_run(args.boltzcl, tr, p + 1, dec, opt, 0.2, name + "_val", tmp)[0]
                   ["test_rmse"] for dec, opt in grid]
            dec, opt = grid[int(np.argmin(val))]
            d, wall = boltzcl_run(args.boltzcl, x, p + 1, dec, opt, args.test_split, name, tmp)
            vp, vsec = var_forecast(x, n_train, p)
            # the LSTM timed at 1 and 2 threads, the faster kept; its
            # forecasts from the 1-thread run (sums in a fixed order)
            lp, lsec = lstm_forecast(x, n_train, p, args.seed, 1)
            lsec = min(lsec, lstm_forecast(x, n_train, p, args.seed, 2)[1])
            y = x[n_train:]
            row = {"series": name, "steps": T, "variables": x.shape[1], "lags": p,
                   "dybm_decays": dec, "dybm_optimiser": "%s lr %g, %d epochs, lr decay %g" % opt,
                   "boltzcl": d["test_rmse"], "var": rmse(vp, y), "lstm": rmse(lp, y),
                   "persistence": rmse(x[n_train - 1:-1], y),
                   "boltzcl_persistence": d["persistence_rmse"],
                   "boltzcl_s": d["seconds"], "boltzcl_wall_s": wall, "var_s": vsec,
                   "lstm_s": lsec}
            rows.append(row)
            if args.json:
                print(json.dumps(row))
    print("CPU: %s; held-out tail %.0f%% of each series; choices on a validation split of "
          "the training part" % (cpu_model(), 100 * args.test_split))
    print("| series | steps x vars | look-back | boltzcl DyBM | VAR/AR | LSTM | persistence | "
          "DyBM/VAR | DyBM/LSTM | seconds (DyBM / VAR / LSTM) | DyBM settings |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %d x %d | %d | %.4g | %.4g | %.4g | %.4g | %.3f | %.3f | %.2f / %.2f / %.2f "
              "| decays %s; %s |" % (
                  r["series"], r["steps"], r["variables"], r["lags"], r["boltzcl"], r["var"],
                  r["lstm"], r["persistence"], r["boltzcl"] / r["var"], r["boltzcl"] / r["lstm"],
                  r["boltzcl_s"], r["var_s"], r["lstm_s"], r["dybm_decays"],
                  r["dybm_optimiser"]))
    ok = all(r["boltzcl"] <= r["var"] and r["boltzcl"] <= r["lstm"] for r in rows)
    print("targets (DyBM RMSE <= VAR/AR's and <= LSTM's on every series): %s" %
          ("met" if ok else "NOT met"))


if __name__ == "__main__":
    main()
