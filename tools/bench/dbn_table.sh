#!/usr/bin/env bash
# The DBN table of the README: the same 784-500-500-10 network fine-tuned
# (i) after greedy pretraining and (ii) from a random initialisation, each on
# Fashion-MNIST's grey levels and with --binarize, scored on the test split.
# Runs the four trainings one after another (each its JSON and progress log in
# OUTDIR), then prints a markdown table from the JSON.
#
#   tools/bench/dbn_table.sh [OUTDIR] [extra train dbn options...]
#   tools/bench/dbn_table.sh --table-only [OUTDIR]   # table from earlier runs
#
# BOLTZCL is the binary (default build/src/cli/boltzcl). On 2 CPU cores
# through POCL the four runs take about 17 minutes.
set -euo pipefail
B=${BOLTZCL:-build/src/cli/boltzcl}
only=0
if [ "${1:-}" = --table-only ]; then only=1; shift; fi
OUT=${1:-build/dbn-table}
[ $# -gt 0 ] && shift
common=(--data fashion-mnist --test fashion-mnist:test --layers 500,500
        --pretrain-epochs 10 --finetune-epochs 50 --patience 25
        --lr 0.1 --lr-decay 0.1 --dropout 0.2 --batch 32 --seed 1 "$@")
names=(pretrained pretrained-binarized scratch scratch-binarized)
mkdir -p "$OUT"
if [ "$only" = 0 ]; then
  for n in "${names[@]}"; do
    extra=()
    case $n in scratch*) extra+=(--no-pretrain) ;; esac
    case $n in *binarized) extra+=(--binarize) ;; esac
    echo "== $n: $B train dbn ${common[*]} ${extra[*]}" >&2
    "$B" train dbn "${common[@]}" "${extra[@]}" --out "$OUT/$n.safetensors" --overwrite --json \
      > "$OUT/$n.json" 2> "$OUT/$n.log"
  done
fi
python3 - "$OUT" "${names[@]}" <<'PY'
import json, os, sys
out, names = sys.argv[1], sys.argv[2:]
print("| network | initialisation | inputs | test accuracy | val accuracy | pretraining s | fine-tuning s (epochs, best) |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for n in names:
    with open(os.path.join(out, n + ".json")) as f:
        d = json.loads(f.read().strip().splitlines()[-1])
    pct = lambda v: "-" if v is None else "%.2f%%" % (100 * v)
    print("| 784-%s-10 | %s | %s | %s | %s | %.0f | %.0f (%d, %d) |" % (
        d["layers"].replace(",", "-"), "pretrained" if d["pretrained"] else "random",
        "binarized" if d["binarized"] else "grey levels",
        pct(d.get("test_accuracy")), pct(d.get("val_accuracy")),
        d["pretrain_seconds"], d["finetune_seconds"], d["epochs_run"], d["best_epoch"]))
PY
