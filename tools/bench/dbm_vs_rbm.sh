#!/usr/bin/env bash
# The DBM-vs-RBM likelihood comparison on binarised Fashion-MNIST: a DBM
# (H1-H2 hidden units) against single RBMs of H1 hidden units trained as the
# papers train them for likelihood (PCD, and CD-k with k = 10), for the same
# total number of epochs (the DBM's pretraining epochs of both layers plus its
# joint epochs), all scored on the same test rows by forward AIS and by the
# reverse estimate (`eval --ais`: the two bracket log Z when they agree); then
# the DBM's fine-tuned classifier against a DBN of the same layers. One JSON
# line per model on stdout.
#
#   tools/bench/dbm_vs_rbm.sh [OUTDIR]
#
# BOLTZCL (the binary, default build/src/cli/boltzcl), H1 (500), H2 (1000), PRE
# (pretraining epochs per layer, 10), JOINT (DBM joint epochs, 20), FT
# (fine-tuning epochs, 30; 0 skips the classifiers), ROWS (training rows of
# the DBM, 0 = all 60,000; the RBMs and the DBN always see all rows, which can
# only favour them), EVAL_ROWS (test rows, 0 = all 10,000), AIS_RUNS (100),
# AIS_BETAS (10000), RBM_MODES ("pcd cd10").
# Full size wants a GPU: on a 2-core CPU use a reduced size (README).
set -euo pipefail
B=${BOLTZCL:-build/src/cli/boltzcl}
OUT=${1:-dbm-vs-rbm}
H1=${H1:-500} H2=${H2:-1000}
PRE=${PRE:-10} JOINT=${JOINT:-20} FT=${FT:-30} ROWS=${ROWS:-0} EVAL_ROWS=${EVAL_ROWS:-0}
AIS=(--ais --ais-runs "${AIS_RUNS:-100}" --ais-betas "${AIS_BETAS:-10000}")
[ "$EVAL_ROWS" -gt 0 ] && AIS+=(--rows "$EVAL_ROWS")
TOTAL=$((2 * PRE + JOINT))
mkdir -p "$OUT"
rows=()
[ "$ROWS" -gt 0 ] && rows=(--rows "$ROWS")

line() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); d.update(json.loads(sys.argv[1])); print(json.dumps(d))' "$1"; }

for mode in ${RBM_MODES:-pcd cd10}; do
  case "$mode" in
    pcd) extra=(--pcd --lr 0.01) ;;
    cd*) extra=(--k "${mode#cd}") ;;
    *) echo "unknown RBM mode $mode (pcd or cdK)" >&2; exit 2 ;;
  esac
  "$B" train rbm --data fashion-mnist --hidden "$H1" --epochs "$TOTAL" --binarize threshold \
    "${extra[@]}" --out "$OUT/rbm-$mode.safetensors" --overwrite --quiet --json > "$OUT/rbm-$mode.train.json"
  "$B" eval --model "$OUT/rbm-$mode.safetensors" --data fashion-mnist:test "${AIS[@]}" --json \
    2>/dev/null | line "{\"model\":\"rbm-$mode\",\"epochs\":$TOTAL}"
done

ft=(); [ "$FT" -gt 0 ] && ft=(--finetune-epochs "$FT" --test fashion-mnist:test)
"$B" train dbm --data fashion-mnist "${rows[@]}" --layers "$H1,$H2" --pretrain-epochs "$PRE" \
  --epochs "$JOINT" "${ft[@]}" --out "$OUT/dbm.safetensors" --overwrite --quiet --json > "$OUT/dbm.train.json"
"$B" eval --model "$OUT/dbm.safetensors" --data fashion-mnist:test "${AIS[@]}" --json 2>/dev/null |
  line "{\"model\":\"dbm\",\"epochs\":$TOTAL}"
[ "$FT" -gt 0 ] || exit 0
line '{"model":"dbm-classifier"}' < "$OUT/dbm.train.json"

"$B" train dbn --data fashion-mnist --layers "$H1,$H2" --pretrain-epochs "$PRE" \
  --finetune-epochs "$FT" --binarize --test fashion-mnist:test --out "$OUT/dbn.safetensors" \
  --overwrite --quiet --json | line '{"model":"dbn-classifier"}'
