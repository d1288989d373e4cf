#!/usr/bin/env python3
"""Export scikit-learn's 8x8 handwritten digits (load_digits: 1,797 images,
pixels 0..16, classes 0-9) as two CSV files that boltzcl reads:

  OUTDIR/digits-train.csv   80%, 1,437 rows
  OUTDIR/digits-test.csv    20%, 360 rows (stratified by class, fixed seed)

Each file has a header line `label,pixel0,...,pixel63`, then one row per image:
the class, then the 64 pixels as the integers 0..16 of the data set. boltzcl
scales a CSV file by its largest value, so both files are checked to reach
16 (every pixel ends up divided by 16 in training and test alike).

  python3 tools/data/digits.py [OUTDIR]     (default build/digits)
"""
import os
import sys

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def write(path, x, y):
    assert x.max() == 16, f"{path}: largest pixel {x.max()}, not 16: scaling would differ"
    with open(path, "w") as f:
        f.write("label," + ",".join(f"pixel{i}" for i in range(x.shape[1])) + "\n")
        for label, row in zip(y, x):
            f.write(f"{label}," + ",".join(str(v) for v in row) + "\n")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "build/digits"
    d = load_digits()
    x = d.data.astype(np.int64)  # integral floats 0..16
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, "digits-train.csv"), xtr, ytr)
    write(os.path.join(out, "digits-test.csv"), xte, yte)
    print(f"{out}/digits-train.csv: {len(ytr)} rows; {out}/digits-test.csv: {len(yte)} rows")


if __name__ == "__main__":
    main()
