"""scikit-learn's "Restricted Boltzmann Machine features for digit
classification" (plot_rbm_logistic_classification) with boltzcl's
BernoulliRBM put in place of scikit-learn's, both measured in one run.

The 8x8 digits are nudged one pixel in four directions (five times the
rows), scaled to [0, 1] and split 80/20; BernoulliRBM(n_components=100,
learning_rate=0.06, n_iter=10) features feed LogisticRegression(C=6000),
exactly as the scikit-learn example does. Prints the test accuracy of each
pipeline, of logistic regression on raw pixels, and the fit times.

    python3 examples/python/rbm_digits.py [--seeds N] [--device cpu]
"""
import argparse
import time

import numpy as np
from scipy.ndimage import convolve
from sklearn import datasets, linear_model
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM as SkBernoulliRBM
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import minmax_scale

import boltzcl


def nudge_dataset(X, Y):
    """scikit-learn's example: the images shifted by one pixel left, right,
    down and up, added to the originals."""
    direction_vectors = [
        [[0, 1, 0], [0, 0, 0], [0, 0, 0]],
        [[0, 0, 0], [1, 0, 0], [0, 0, 0]],
        [[0, 0, 0], [0, 0, 1], [0, 0, 0]],
        [[0, 0, 0], [0, 0, 0], [0, 1, 0]],
    ]

    def shift(x, w):
        return convolve(x.reshape((8, 8)), mode="constant", weights=w).ravel()

    X = np.concatenate([X] + [np.apply_along_axis(shift, 1, X, vector)
                              for vector in direction_vectors])
    Y = np.concatenate([Y for _ in range(5)], axis=0)
    return X, Y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=1, help="random_state 0..N-1 for both RBMs")
    ap.add_argument("--device", default=None)
    a = ap.parse_args()
    X, Y = datasets.load_digits(return_X_y=True)
    X = np.asarray(X, "float32")
    X, Y = nudge_dataset(X, Y)
    X = minmax_scale(X, feature_range=(0, 1))
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.2, random_state=0)
    # The example's tol=1 ends newton-cg before its first step in
    # scikit-learn >= 1.8 (every pipeline then scores at chance, 9.7%): the
    # solver's default tolerance instead.
    logistic = linear_model.LogisticRegression(solver="newton-cg", C=6000)
    raw = clone(logistic).set_params(C=100.0).fit(X_train, Y_train)
    print(f"rows {X.shape[0]} (train {X_train.shape[0]}, test {X_test.shape[0]})")
    print(f"logistic regression on raw pixels: accuracy {raw.score(X_test, Y_test):.4f}")
    acc = {"scikit-learn": [], "boltzcl": []}
    secs = {"scikit-learn": [], "boltzcl": []}
    for seed in range(a.seeds):
        # Alternating, so that both see the same machine.
        for name in ("scikit-learn", "boltzcl"):
            if name == "boltzcl":
                rbm = boltzcl.BernoulliRBM(random_state=seed, device=a.device)
            else:
                rbm = SkBernoulliRBM(random_state=seed)
            rbm.set_params(learning_rate=0.06, n_iter=10, n_components=100)
            pipe = Pipeline([("rbm", rbm), ("logistic", clone(logistic))])
            t = time.perf_counter()
            pipe.fit(X_train, Y_train)
            secs[name].append(time.perf_counter() - t)
            acc[name].append(pipe.score(X_test, Y_test))
            print(f"seed {seed} {name:12s} BernoulliRBM + LogisticRegression(C=6000): "
                  f"accuracy {acc[name][-1]:.4f}, fit {secs[name][-1]:.2f} s", flush=True)
    for name in acc:
        print(f"{name:12s} mean accuracy {np.mean(acc[name]):.4f} over {a.seeds} seed(s), "
              f"median fit {np.median(secs[name]):.2f} s")


if __name__ == "__main__":
    main()
