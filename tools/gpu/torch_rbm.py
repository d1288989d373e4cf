#!/usr/bin/env python3
"""The same RBM epoch and GEMMs as `boltzcl bench rbm`/`bench gemm`, in PyTorch on
the GPU, for the ratio in the GPU check. CD-1, 784-500, batch 100, momentum,
weight decay, on Fashion-MNIST scaled to [0, 1]."""
import argparse
import gzip
import json
import os
import time

import numpy as np


def load_images(folder):
    with gzip.open(os.path.join(folder, "train-images-idx3-ubyte.gz"), "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[4:8], "big")
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 784).astype(np.float32) / 255.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    import torch

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x = torch.from_numpy(load_images(args.data)).to(dev)
    n, nv, nh, B = x.shape[0], 784, 500, 100
    g = torch.Generator(device=dev).manual_seed(1)
    W = torch.randn(nv, nh, device=dev, generator=g) * 0.01
    vb = torch.zeros(nv, device=dev)
    hb = torch.zeros(nh, device=dev)
    vW, vvb, vhb = torch.zeros_like(W), torch.zeros_like(vb), torch.zeros_like(hb)
    lr, mom, decay = 0.05, 0.5, 2e-4

    def epoch():
        perm = torch.randperm(n, device=dev, generator=g)
        for i in range(0, n, B):
            v0 = x[perm[i:i + B]]
            h0 = torch.sigmoid(v0 @ W + hb)
            hs = (torch.rand(h0.shape, device=dev, generator=g) < h0).float()
            v1 = torch.sigmoid(hs @ W.t() + vb)
            h1 = torch.sigmoid(v1 @ W + hb)
            vW.mul_(mom).add_((v0.t() @ h0 - v1.t() @ h1) * (lr / B) - lr * decay * W)
            vvb.mul_(mom).add_((v0 - v1).sum(0) * (lr / B))
            vhb.mul_(mom).add_((h0 - h1).sum(0) * (lr / B))
            W.add_(vW)
            vb.add_(vvb)
            hb.add_(vhb)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    epoch()  # warm-up
    sync()
    best = 1e30
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        epoch()
        sync()
        best = min(best, time.perf_counter() - t0)
    flops = 2.0 * n * nv * nh * 5
    out = {"device": str(torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu"),
           "torch": torch.__version__, "rbm_epoch_seconds": best,
           "rbm_gflops": flops / best * 1e-9, "gemm": []}
    shapes = [(100, 500, 784, False, False), (100, 784, 500, False, True),
              (784, 500, 100, True, False), (784, 500, 200, True, False)]
    for m, nn, k, ta, tb in shapes:
        a = torch.rand((k, m) if ta else (m, k), device=dev)
        b = torch.rand((nn, k) if tb else (k, nn), device=dev)
        aa, bb = (a.t() if ta else a), (b.t() if tb else b)
        for _ in range(3):
            c = aa @ bb
        sync()
        reps, t0 = 200, time.perf_counter()
        for _ in range(reps):
            c = aa @ bb
        sync()
        t = (time.perf_counter() - t0) / reps
        out["gemm"].append({"m": m, "n": nn, "k": k, "trans_a": ta, "trans_b": tb,
                            "seconds": t, "gflops": 2.0 * m * nn * k / t * 1e-9})
        del c
    print(json.dumps(out))


if __name__ == "__main__":
    main()
