#!/usr/bin/env bash
# Side by side: one fine-tuning epoch of the 784-500-500-10 sigmoid network
# (batch 32, momentum SGD, the 54,000 training rows of Fashion-MNIST's
# training split) in boltzcl and in PyTorch (tools/bench/torch_dbn.py), on
# the same machine in one session. Prints both, their ratio and the load
# average, then one JSON line.
#
#   tools/bench/dbn_speed.sh [torch device, default cpu] [torch threads, default 2]
#
# boltzcl: `train dbn --no-pretrain --finetune-epochs 2`, the mean of the two
# epochs' training passes (finetune_seconds_per_epoch; validation excluded).
# PyTorch: the faster of two epochs after a warm-up one (its validation pass
# included). BOLTZCL is the binary (default build/src/cli/boltzcl); the
# device boltzcl uses follows BOLTZCL_DEVICE as usual.
set -euo pipefail
B=${BOLTZCL:-build/src/cli/boltzcl}
TDEV=${1:-cpu}
THREADS=${2:-2}
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
load0=$(cut -d' ' -f1-3 /proc/loadavg)
"$B" train dbn --data fashion-mnist --layers 500,500 --no-pretrain --finetune-epochs 2 \
  --batch 32 --out "$tmp/dbn.safetensors" --json --quiet > "$tmp/bz.json"
python3 "$here/torch_dbn.py" --device "$TDEV" --threads "$THREADS" --batch 32 > "$tmp/torch.json"
load1=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$tmp/bz.json" "$tmp/torch.json" "$load0" "$load1" <<'PY'
import json, sys
bz = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
th = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
b, t = bz["finetune_seconds_per_epoch"], th["finetune_epoch_seconds"]
print(f"boltzcl ({bz['device']}): {b:.2f} s per fine-tuning epoch")
print(f"PyTorch {th['torch']} ({th['device']}, {th['threads']} threads): {t:.2f} s per epoch")
print(f"boltzcl / PyTorch: {b / t:.2f}")
print(f"load average before: {sys.argv[3]}, after: {sys.argv[4]}")
print(json.dumps({"boltzcl_seconds_per_epoch": b, "boltzcl_device": bz["device"],
                  "torch_seconds_per_epoch": t, "torch_device": th["device"],
                  "torch_version": th["torch"], "torch_threads": th["threads"],
                  "ratio": b / t, "loadavg_before": sys.argv[3], "loadavg_after": sys.argv[4]}))
PY
