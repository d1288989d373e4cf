#!/bin/sh
# Every command of the boltzcl tool once, on a tiny CSV data set (two
# classes of 16 values: the first or the second half lit): devices, train
# rbm/dbn/dbm, eval, sample, transform, predict on each kind (and the
# refusals of what a kind lacks), bench on a tiny size, tune on a tiny
# budget (its refusal of an unknown device). Exits 77 without a device.
set -u
B=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_cli: $*" >&2; exit 1; }
run() { # expects success
    "$@" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err" >&2; fail "failed: $*"; }
}
refuse() { # expects failure and a message part
    want=$1
    shift
    if "$@" >"$tmp/out" 2>"$tmp/err"; then fail "accepted: $*"; fi
    grep -q "$want" "$tmp/err" || { cat "$tmp/err" >&2; fail "no '$want' from: $*"; }
}

"$B" devices >"$tmp/dev" 2>&1 || { grep -q "no OpenCL" "$tmp/dev" && exit 77; cat "$tmp/dev"; fail devices; }

awk 'BEGIN { srand(7); print "label," "x0,x1,x2,x3,x4,x5,x6,x7,x8,x9,x10,x11,x12,x13,x14,x15";
    for (i = 0; i < 400; i++) { c = i % 2; line = c;
        for (j = 0; j < 16; j++) { on = (c == 0 && j < 8) || (c == 1 && j >= 8);
            v = on ? 200 + int(rand() * 55) : int(rand() * 40); line = line "," v }
        print line } }' >"$tmp/d.csv"
D=$tmp/d.csv

# RBM
run "$B" train rbm --data "$D" --hidden 8 --epochs 2 --batch 20 --out "$tmp/rbm.safetensors" --quiet
run "$B" eval --model "$tmp/rbm.safetensors" --data "$D" --json
grep -q '"pseudo_ll"' "$tmp/out" || fail "eval rbm printed no pseudo_ll"
run "$B" sample --model "$tmp/rbm.safetensors" --out "$tmp/s.png" --n 4 --steps 10
[ -s "$tmp/s.png" ] || fail "sample rbm wrote no picture"
run "$B" transform --model "$tmp/rbm.safetensors" --data "$D" --out "$tmp/f.npy"
[ -s "$tmp/f.npy" ] || fail "transform rbm wrote nothing"
refuse "does not support predict; it supports eval, sample, transform" \
    "$B" predict --model "$tmp/rbm.safetensors" --data "$D"

# DBN
run "$B" train dbn --data "$D" --layers 12,8 --pretrain-epochs 1 --finetune-epochs 3 \
    --rbm-batch 20 --batch 20 --out "$tmp/dbn.safetensors" --quiet
run "$B" predict --model "$tmp/dbn.safetensors" --data "$D" --json
grep -q '"accuracy"' "$tmp/out" || fail "predict dbn printed no accuracy"
run "$B" eval --model "$tmp/dbn.safetensors" --data "$D"
run "$B" sample --model "$tmp/dbn.safetensors" --label 1 --out "$tmp/d.png"
run "$B" transform --model "$tmp/dbn.safetensors" --data "$D" --out "$tmp/top.csv"
refuse "layers takes" "$B" train dbn --data "$D" --layers 12,8, --out "$tmp/x.safetensors"

# DBM
run "$B" train dbm --data "$D" --layers 8,6 --pretrain-epochs 1 --epochs 1 --chains 20 \
    --batch 20 --finetune-epochs 2 --ft-batch 20 --out "$tmp/dbm.safetensors" --quiet
run "$B" eval --model "$tmp/dbm.safetensors" --data "$D"
run "$B" sample --model "$tmp/dbm.safetensors" --out "$tmp/m.png"
run "$B" transform --model "$tmp/dbm.safetensors" --data "$D" --out "$tmp/mf.npy"
run "$B" predict --model "$tmp/dbm.safetensors" --data "$D"
refuse "layers takes" "$B" train dbm --data "$D" --layers 8,6, --out "$tmp/x.safetensors"

# not a model at all, or no file: every per-model command names the file
printf 'not a model' >"$tmp/junk.safetensors"
for f in junk none; do
    refuse "$tmp/$f.safetensors" "$B" eval --model "$tmp/$f.safetensors" --data "$D"
    refuse "$tmp/$f.safetensors" "$B" sample --model "$tmp/$f.safetensors" --out "$tmp/o.png"
    refuse "$tmp/$f.safetensors" "$B" transform --model "$tmp/$f.safetensors" --data "$D" \
        --out "$tmp/o.npy"
    refuse "$tmp/$f.safetensors" "$B" predict --model "$tmp/$f.safetensors" --data "$D"
done

# bench and tune, tiny
run "$B" bench gemm --reps 1
run "$B" bench dbm --layers 8,6 --data "$D" --rows 100 --batch 20 --chains 20
run "$B" bench dybm --n 8 --delay 3 --batch 4 --steps 40 --rounds 1
# a DyBM on the data's columns as a series: eval and transform are not its
run "$B" train dybm --series "$D" --delay 3 --epochs 2 --out "$tmp/y.safetensors" --quiet
refuse "does not support eval" "$B" eval --model "$tmp/y.safetensors" --data "$D"
run "$B" predict --model "$tmp/y.safetensors" --series "$D" --out "$tmp/y.csv"
refuse "no-such-device" "$B" tune --device no-such-device-xyz --seconds 1 --out "$tmp/t.jsonl"
[ ! -e "$tmp/t.jsonl" ] || fail "tune wrote a file for a device that does not exist"
echo "test_cli: every command ran"
