#!/usr/bin/env bash
# The DBM issue's comparison on binarised Fashion-MNIST: a 784-500-1000 DBM
# against single 784-500 RBMs (CD-1 and PCD) trained for the same total number
# of epochs (the DBM's pretraining epochs of both layers plus its joint
# epochs), all scored by AIS on the test split; then the DBM's fine-tuned
# classifier against a DBN of the same layers. One JSON line per model on
# stdout, a table at the end.
#
#   tools/bench/dbm_vs_rbm.sh [OUTDIR]
#
# BOLTZCL (the binary, default build/src/cli/boltzcl), PRE (pretraining epochs
# per layer, 10), JOINT (DBM joint epochs, 20), FT (fine-tuning epochs, 30),
# ROWS (training rows, 0 = all 60,000), AIS_RUNS (100), AIS_BETAS (10000),
# RBM_MODES ("cd1 pcd").
# Full size wants a GPU: on the 2-core POCL machine use ROWS=10000 and expect
# tens of minutes.
set -euo pipefail
B=${BOLTZCL:-build/src/cli/boltzcl}
OUT=${1:-dbm-vs-rbm}
PRE=${PRE:-10} JOINT=${JOINT:-20} FT=${FT:-30} ROWS=${ROWS:-0}
AIS=(--ais --ais-runs "${AIS_RUNS:-100}" --ais-betas "${AIS_BETAS:-10000}")
TOTAL=$((2 * PRE + JOINT))
mkdir -p "$OUT"
rows=()
[ "$ROWS" -gt 0 ] && rows=(--rows "$ROWS")
# train rbm has no --rows; with ROWS set it trains on all rows (an upper bound for it).

line() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); d.update(json.loads(sys.argv[1])); print(json.dumps(d))' "$1"; }

for mode in ${RBM_MODES:-cd1 pcd}; do
  extra=(); [ "$mode" = pcd ] && extra=(--pcd)
  "$B" train rbm --data fashion-mnist --hidden 500 --epochs "$TOTAL" --binarize threshold \
    "${extra[@]}" --out "$OUT/rbm-$mode.safetensors" --overwrite --quiet --json > "$OUT/rbm-$mode.train.json"
  "$B" eval --model "$OUT/rbm-$mode.safetensors" --data fashion-mnist:test "${AIS[@]}" --json \
    2>/dev/null | line "{\"model\":\"rbm-$mode\",\"epochs\":$TOTAL}"
done

"$B" train dbm --data fashion-mnist "${rows[@]}" --layers 500,1000 --pretrain-epochs "$PRE" \
  --epochs "$JOINT" --finetune-epochs "$FT" --test fashion-mnist:test \
  --out "$OUT/dbm.safetensors" --overwrite --quiet --json > "$OUT/dbm.train.json"
"$B" eval --model "$OUT/dbm.safetensors" --data fashion-mnist:test "${AIS[@]}" --json 2>/dev/null |
  line "{\"model\":\"dbm\",\"epochs\":$TOTAL}"
line '{"model":"dbm-classifier"}' < "$OUT/dbm.train.json"

"$B" train dbn --data fashion-mnist --layers 500,1000 --pretrain-epochs "$PRE" \
  --finetune-epochs "$FT" --binarize --test fashion-mnist:test --out "$OUT/dbn.safetensors" \
  --overwrite --quiet --json | line '{"model":"dbn-classifier"}'
