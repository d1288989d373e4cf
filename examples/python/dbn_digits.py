"""The deep-belief-network package's classification example (albertbup's
`SupervisedDBNClassification`, the DBN most Python users have met) with
boltzcl's DBNClassifier, beside scikit-learn's MLPClassifier of the same
shape trained without pretraining, measured in one run.

The example's recipe: two hidden layers of 256, RBM pretraining 10 epochs
per layer at learning rate 0.05, fine-tuning 100 epochs at 0.1 with
minibatches of 32, ReLU units and dropout 0.2, on scikit-learn's 8x8 digits
scaled to [0, 1] (divided by 16) and split 80/20 with random_state=0. As
there, all 100 fine-tuning epochs run on all training rows (no validation
split, no early stopping; boltzcl keeps the epoch of best training
accuracy), and the MLP runs its 100 epochs too.

--csv FILE takes the Kaggle "Digit Recognizer" layout instead (train.csv:
a header, then the label and 784 pixels 0..255 per row), split the same
way.

    python3 examples/python/dbn_digits.py [--seeds N] [--csv train.csv] [--device cpu]
"""
import argparse
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

import boltzcl


def load(csv):
    if not csv:
        X, Y = datasets.load_digits(return_X_y=True)
        return (X / 16.0).astype(np.float32), Y
    raw = np.loadtxt(csv, delimiter=",", skiprows=1, dtype=np.float32)
    if raw.ndim != 2 or raw.shape[1] != 785:
        raise SystemExit(f"{csv}: expected a header, then a label and 784 pixels per row")
    return raw[:, 1:] / 255.0, raw[:, 0].astype(np.int64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=1, help="random_state 0..N-1")
    ap.add_argument("--csv", default=None, help="Kaggle digit-recognizer train.csv")
    ap.add_argument("--device", default=None)
    a = ap.parse_args()
    # The MLP runs its fixed 100 epochs by design, not "before converging".
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, Y = load(a.csv)
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.2, random_state=0)
    print(f"rows {X.shape[0]} (train {X_train.shape[0]}, test {X_test.shape[0]}), "
          f"{X.shape[1]} pixels")
    acc = {"boltzcl DBN": [], "scikit-learn MLP": []}
    secs = {k: [] for k in acc}
    for seed in range(a.seeds):
        for name in acc:  # alternating, so that both see the same machine
            if name == "boltzcl DBN":
                clf = boltzcl.DBNClassifier(
                    hidden_layer_sizes=(256, 256), pretrain_learning_rate=0.05,
                    pretrain_epochs=10, pretrain_batch_size=32, learning_rate=0.1,
                    finetune_epochs=100, batch_size=32, activation="relu", dropout=0.2,
                    patience=0, validation_fraction=0.0, random_state=seed, device=a.device)
            else:
                clf = MLPClassifier(hidden_layer_sizes=(256, 256), activation="relu",
                                    solver="sgd", learning_rate_init=0.1, momentum=0.9,
                                    batch_size=32, max_iter=100, tol=0.0,
                                    n_iter_no_change=100, random_state=seed)
            t = time.perf_counter()
            clf.fit(X_train, Y_train)
            secs[name].append(time.perf_counter() - t)
            acc[name].append(clf.score(X_test, Y_test))
            print(f"seed {seed} {name:17s} accuracy {acc[name][-1]:.4f}, "
                  f"fit {secs[name][-1]:.2f} s", flush=True)
    for name in acc:
        print(f"{name:17s} mean accuracy {np.mean(acc[name]):.4f} over {a.seeds} seed(s), "
              f"median fit {np.median(secs[name]):.2f} s")


if __name__ == "__main__":
    main()
