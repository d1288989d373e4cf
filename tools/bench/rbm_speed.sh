#!/usr/bin/env bash
# Side by side: one CD-1 epoch of a 784-500 RBM on all 60,000 Fashion-MNIST
# training images, batch 100, in boltzcl (`bench rbm`) and in scikit-learn's
# BernoulliRBM (tools/bench/baselines.py, one `fit` epoch), alternating
# ROUNDS times (default 3) so that both see the same machine. A shared
# 2-core machine drifts between fast and slow spells that last minutes, so
# each round's ratio is printed as well as the ratio of the medians.
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
  python3 "$here/baselines.py" --epochs 1 --full --skip-torch --no-test --json \
    > "$tmp/sk.$r.json" 2>/dev/null
done
python3 - "$tmp" "$ROUNDS" <<'PY'
import json, os, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
bz, sk = [], []
for r in range(1, rounds + 1):
    b = json.load(open(os.path.join(tmp, f"bz.{r}.json")))
    s = json.load(open(os.path.join(tmp, f"sk.{r}.json")))
    run = next(iter(s["runs"].values()))
    bz.append(b["seconds_per_epoch"])
    sk.append(run["seconds_per_epoch"])
    print(f"round {r}: boltzcl {bz[-1]:.2f} s ({b['gflops']:.0f} GFLOP/s, "
          f"{100 * b['gemm_share']:.0f}% in products), scikit-learn {sk[-1]:.2f} s, "
          f"ratio {bz[-1] / sk[-1]:.2f}, load {run['load_before'][0]:.2f}")
mb, ms = statistics.median(bz), statistics.median(sk)
print(f"median: boltzcl {mb:.2f} s ({b['device']}), scikit-learn {ms:.2f} s "
      f"({run['library']}), boltzcl / scikit-learn {mb / ms:.2f}")
print(json.dumps({"boltzcl_seconds_per_epoch": bz, "sklearn_seconds_per_epoch": sk,
                  "boltzcl_median": mb, "sklearn_median": ms, "ratio": mb / ms,
                  "device": b["device"], "sklearn": run["library"]}))
PY
