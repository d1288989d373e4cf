#!/usr/bin/env bash
# Side by side: one CD-1 epoch of a 784-500 RBM on all 60,000 Fashion-MNIST
# training images, batch 100, in boltzcl (`bench rbm`) and in scikit-learn's
# BernoulliRBM (tools/bench/baselines.py, one `fit` epoch), alternating
# ROUNDS times (default 3) so that both see the same machine. A shared
# 2-core machine drifts between fast and slow spells that last minutes, so
# each round's ratio is printed as well as the ratio of the medians. Each
# round also times boltzcl with `--no-pad` (the model's own sizes rather than
# the tile-aligned layout), so that the padding's gain is measured in the
# same run.
#
#   tools/bench/rbm_speed.sh [ROUNDS]
#
# BOLTZCL is the binary (default build/src/cli/boltzcl); the device follows
# BOLTZCL_DEVICE as usual. The last line is one JSON object.
set -euo pipefail
B=${BOLTZCL:-build/src/cli/boltzcl}
ROUNDS=${1:-3}
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in $(seq 1 "$ROUNDS"); do
  "$B" bench rbm --epochs 1 --json 2>/dev/null | tail -n 1 > "$tmp/bz.$r.json"
  "$B" bench rbm --epochs 1 --no-pad --json 2>/dev/null | tail -n 1 > "$tmp/np.$r.json"
  python3 "$here/baselines.py" --epochs 1 --full --skip-torch --no-test --json \
    > "$tmp/sk.$r.json" 2>/dev/null
done
python3 - "$tmp" "$ROUNDS" <<'PY'
import json, os, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
bz, sk, np_ = [], [], []
for r in range(1, rounds + 1):
    b = json.load(open(os.path.join(tmp, f"bz.{r}.json")))
    np_.append(json.load(open(os.path.join(tmp, f"np.{r}.json")))["seconds_per_epoch"])
    s = json.load(open(os.path.join(tmp, f"sk.{r}.json")))
    run = next(iter(s["runs"].values()))
    bz.append(b["seconds_per_epoch"])
    sk.append(run["seconds_per_epoch"])
    print(f"round {r}: boltzcl {bz[-1]:.2f} s ({b['gflops']:.0f} GFLOP/s, "
          f"{100 * b['gemm_share']:.0f}% in products; not padded {np_[-1]:.2f} s), "
          f"scikit-learn {sk[-1]:.2f} s, "
          f"ratio {bz[-1] / sk[-1]:.2f}, load {run['load_before'][0]:.2f}")
mb, ms, mn = statistics.median(bz), statistics.median(sk), statistics.median(np_)
print(f"median: boltzcl {mb:.2f} s ({b['device']}; not padded {mn:.2f} s), scikit-learn "
      f"{ms:.2f} s ({run['library']}), boltzcl / scikit-learn {mb / ms:.2f}")
# The machine's slow spells only ever add time, so the best round of each is
# the least disturbed figure.
print(f"best: boltzcl {min(bz):.2f} s (not padded {min(np_):.2f} s), scikit-learn "
      f"{min(sk):.2f} s, boltzcl / scikit-learn {min(bz) / min(sk):.2f}")
print(json.dumps({"boltzcl_seconds_per_epoch": bz, "sklearn_seconds_per_epoch": sk,
                  "boltzcl_unpadded_seconds_per_epoch": np_,
                  "boltzcl_median": mb, "sklearn_median": ms, "ratio": mb / ms,
                  "best_ratio": min(bz) / min(sk),
                  "device": b["device"], "sklearn": run["library"]}))
PY
