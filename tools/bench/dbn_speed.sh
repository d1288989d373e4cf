#!/usr/bin/env bash
# Side by side: one fine-tuning epoch of the 784-500-500-10 sigmoid network
# (batch 32, momentum SGD, the 54,000 training rows of Fashion-MNIST's
# training split) in boltzcl and in PyTorch (tools/bench/torch_dbn.py), on
# the same machine, alternating ROUNDS times (default 3) so that both see the
# same spells of a shared machine. Each round also times boltzcl with
# `--no-pad` (the network's own sizes rather than the tile-aligned layout),
# so that the padding's gain is measured in the same run.
#
#   tools/bench/dbn_speed.sh [ROUNDS] [torch device, default cpu] [torch threads, default 2]
#
# Both sides: the training pass alone (validation excluded), the faster of
# two epochs. boltzcl: `train dbn --no-pretrain --finetune-epochs 2`, the
# `finetune_epoch_seconds` of its JSON; PyTorch: two epochs after a warm-up
# one. BOLTZCL is the binary (default build/src/cli/boltzcl); the device
# boltzcl uses follows BOLTZCL_DEVICE as usual. Prints every round, the
# medians and the best rounds, then one JSON line.
set -euo pipefail
B=${BOLTZCL:-build/src/cli/boltzcl}
ROUNDS=${1:-3}
TDEV=${2:-cpu}
THREADS=${3:-2}
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bz() {
  "$B" train dbn --data fashion-mnist --layers 500,500 --no-pretrain --finetune-epochs 2 \
    --batch 32 --out "$tmp/dbn.safetensors" --overwrite --json --quiet "$@"
}
for r in $(seq 1 "$ROUNDS"); do
  cut -d' ' -f1 /proc/loadavg > "$tmp/load.$r"
  bz | tail -n 1 > "$tmp/bz.$r.json"
  bz --no-pad | tail -n 1 > "$tmp/np.$r.json"
  python3 "$here/torch_dbn.py" --device "$TDEV" --threads "$THREADS" --batch 32 \
    | tail -n 1 > "$tmp/th.$r.json"
done
python3 - "$tmp" "$ROUNDS" <<'PY'
import json, os, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
bz, np_, th = [], [], []
for r in range(1, rounds + 1):
    b = json.load(open(os.path.join(tmp, f"bz.{r}.json")))
    n = json.load(open(os.path.join(tmp, f"np.{r}.json")))
    t = json.load(open(os.path.join(tmp, f"th.{r}.json")))
    load = open(os.path.join(tmp, f"load.{r}")).read().strip()
    bz.append(min(b["finetune_epoch_seconds"]))
    np_.append(min(n["finetune_epoch_seconds"]))
    th.append(t["finetune_epoch_seconds"])
    print(f"round {r}: boltzcl {bz[-1]:.2f} s (not padded {np_[-1]:.2f} s), "
          f"PyTorch {th[-1]:.2f} s, ratio {bz[-1] / th[-1]:.2f}, load {load}")
mb, mn, mt = statistics.median(bz), statistics.median(np_), statistics.median(th)
print(f"median: boltzcl {mb:.2f} s ({b['device']}; not padded {mn:.2f} s), PyTorch "
      f"{t['torch']} ({t['device']}, {t['threads']} threads) {mt:.2f} s, "
      f"boltzcl / PyTorch {mb / mt:.2f}")
# A shared machine's slow spells only ever add time, so the best round of
# each is the least disturbed figure.
print(f"best: boltzcl {min(bz):.2f} s (not padded {min(np_):.2f} s), PyTorch {min(th):.2f} s, "
      f"boltzcl / PyTorch {min(bz) / min(th):.2f}")
print(json.dumps({"boltzcl_seconds_per_epoch": bz, "boltzcl_unpadded_seconds_per_epoch": np_,
                  "torch_seconds_per_epoch": th, "boltzcl_median": mb, "torch_median": mt,
                  "ratio": mb / mt, "best_ratio": min(bz) / min(th),
                  "boltzcl_device": b["device"], "torch_device": t["device"],
                  "torch_version": t["torch"], "torch_threads": t["threads"]}))
PY
