#!/usr/bin/env python3
"""One fine-tuning epoch of a 784-500-500-10 sigmoid network in PyTorch, the
network `boltzcl train dbn --layers 500,500` fine-tunes, for the side-by-side
speed figure of the DBN issue.

Same work per epoch as boltzcl: minibatch SGD with momentum on softmax
cross-entropy, the 90% training part of Fashion-MNIST's training split
(--val-split 0.1), in shuffled minibatches, followed by one pass over the
validation rows for the accuracy that early stopping reads.  Data is on the
device before the clock starts.  finetune_epoch_seconds is the training pass
alone, as boltzcl reports it; epoch_with_validation_seconds adds the
validation pass.  Both are the best of --epochs timed epochs after a
warm-up one.  Prints one JSON object on stdout.

  python3 tools/bench/torch_dbn.py [--device cpu|cuda] [--threads 2] [--batch 32]
"""
import argparse
import gzip
import json
import os
import time

import numpy as np


def load(folder, name):
    with gzip.open(os.path.join(folder, name), "rb") as f:
        raw = f.read()
    return raw


def load_split(folder):
    img = load(folder, "train-images-idx3-ubyte.gz")
    lab = load(folder, "train-labels-idx1-ubyte.gz")
    n = int.from_bytes(img[4:8], "big")
    x = np.frombuffer(img, dtype=np.uint8, offset=16).reshape(n, 784).astype(np.float32) / 255.0
    y = np.frombuffer(lab, dtype=np.uint8, offset=8).astype(np.int64)
    return x, y


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.environ.get("BOLTZCL_DATA_DIR_FMNIST",
                                                     "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--layers", default="500,500")
    ap.add_argument("--epochs", type=int, default=2, help="timed epochs, best kept (2)")
    ap.add_argument("--lr", type=float, default=0.1)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    dev = torch.device(args.device)
    x, y = load_split(args.data)
    nval = int(round(0.1 * len(x)))
    perm = np.random.RandomState(1).permutation(len(x))
    xv, yv = torch.from_numpy(x[perm[:nval]]).to(dev), torch.from_numpy(y[perm[:nval]]).to(dev)
    xt, yt = torch.from_numpy(x[perm[nval:]]).to(dev), torch.from_numpy(y[perm[nval:]]).to(dev)

    sizes = [784] + [int(s) for s in args.layers.split(",")] + [10]
    mods = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        mods.append(torch.nn.Linear(a, b))
        mods.append(torch.nn.Sigmoid())
    net = torch.nn.Sequential(*mods[:-1]).to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def epoch():
        t0 = time.perf_counter()
        net.train()
        order = torch.randperm(len(xt), device=dev)
        for i in range(0, len(xt), args.batch):
            idx = order[i:i + args.batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        sync()
        train_s = time.perf_counter() - t0
        net.eval()
        with torch.no_grad():
            acc = (net(xv).argmax(1) == yv).float().mean().item()
        return train_s, acc

    epoch()  # warm-up (allocator, kernels, thread pool)
    sync()
    best, best_all, acc = 1e30, 1e30, 0.0
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        train_s, acc = epoch()
        sync()
        best = min(best, train_s)
        best_all = min(best_all, time.perf_counter() - t0)
    dev_name = torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu"
    print(json.dumps({"device": dev_name, "torch": torch.__version__,
                      "threads": torch.get_num_threads(), "layers": sizes,
                      "batch": args.batch, "finetune_epoch_seconds": best,
                      "epoch_with_validation_seconds": best_all,
                      "val_accuracy": acc, "loadavg": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
