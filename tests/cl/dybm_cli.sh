#!/bin/sh
# boltzcl train dybm, predict and sample end to end on a small VAR series:
# the --json keys and the held-out RMSE below persistence's, a run stopped by
# SIGINT inside an epoch and resumed giving the same model file byte for byte
# as an uninterrupted run, predictions and continuations of the right shape,
# the letter-sequence demonstration through the command line, and refusals
# of bad series files (ragged rows, NaN, too short for the delay) naming the
# file and line.
# Usage: dybm_cli.sh BOLTZCL; exits 77 (skipped) without an OpenCL device.
set -u
bz=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

if ! "$bz" devices >/dev/null 2>&1; then echo "no OpenCL device" >&2; exit 77; fi

# a VAR(1) of two variables around (10, -5), with a time column and header
python3 - "$dir/s.csv" <<'PY' || fail "making the series"
import math, random, sys
random.seed(1)
a, b = 0.0, 0.0
with open(sys.argv[1], "w") as f:
    f.write("time,a,b\n")
    for t in range(800):
        a, b = 0.7 * a + 0.2 * b + random.gauss(0, 1), -0.3 * a + 0.5 * b + random.gauss(0, 1)
        f.write("%d,%.6f,%.6f\n" % (t, a + 10, b - 5))
PY
"$bz" train dybm --series "$dir/s.csv" --delay 3 --decays 0.5 --epochs 4 --lr 0.005 \
    --chunk 100 --out "$dir/a.st" --json --quiet > "$dir/a.json" || fail "training"
python3 - "$dir/a.json" <<'PY' || fail "train --json: $(cat "$dir/a.json")"
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("test_rmse", "persistence_rmse", "epochs", "seconds", "train_rmse"):
    assert k in d, k
assert d["epochs"] == 4 and d["test_steps"] == 160, d
# the series' own units: the noise has sd 1, so the RMSE is near 1
assert 0.8 < d["test_rmse"] < 1.2 and d["test_rmse"] < 0.95 * d["persistence_rmse"], d
PY
# stopped by SIGINT after 10 chunks (inside epoch 2), resumed: the same file
BOLTZCL_TEST_SIGNAL_AFTER=10:2 "$bz" train dybm --series "$dir/s.csv" --delay 3 --decays 0.5 \
    --epochs 4 --lr 0.005 --chunk 100 --out "$dir/b.st" --quiet 2> "$dir/b.err"
rc=$?
[ $rc -eq 130 ] || fail "a stopped run exits $rc: $(cat "$dir/b.err")"
[ -f "$dir/b.st.ckpt" ] || fail "no checkpoint after the stop"
"$bz" train dybm --series "$dir/s.csv" --delay 3 --decays 0.5 --epochs 4 --lr 0.005 \
    --chunk 100 --out "$dir/b.st" --quiet --resume "$dir/b.st.ckpt" || fail "resume"
cmp -s "$dir/a.st" "$dir/b.st" || fail "a resumed run's model differs from an uninterrupted one's"
"$bz" train dybm --series "$dir/s.csv" --delay 3 --decays 0.5 --epochs 4 --lr 0.005 \
    --chunk 100 --out "$dir/b.st" --quiet 2> "$dir/c.err" && fail "the checkpoint was overwritten"
grep -q "already exists" "$dir/c.err" || fail "no word of the checkpoint: $(cat "$dir/c.err")"

"$bz" predict --model "$dir/a.st" --series "$dir/s.csv" --horizon 5 --out "$dir/p.csv" \
    2> "$dir/p.err" || fail "predict: $(cat "$dir/p.err")"
[ "$(grep -c . "$dir/p.csv")" -eq 805 ] || fail "predict wrote $(grep -c . "$dir/p.csv") rows"
"$bz" sample --model "$dir/a.st" --series "$dir/s.csv" --steps 7 --out "$dir/c.npy" \
    2> "$dir/c.err" || fail "sample: $(cat "$dir/c.err")"
"$bz" sample --model "$dir/a.st" --steps 3 --out "$dir/c.csv" 2> /dev/null || fail "sample"
[ "$(grep -c , "$dir/c.csv")" -eq 3 ] || fail "sample wrote $(cat "$dir/c.csv")"

# letters D Y B M M B Y D as 7 x 5 bitmaps, four times; regenerated from D
python3 - "$dir/letters.csv" "$dir/seed.csv" <<'PY' || fail "making the letters"
import sys
L = {"D": ["####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."],
     "Y": ["#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."],
     "B": ["####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."],
     "M": ["#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"]}
rows = [",".join("1" if c == "#" else "0" for c in "".join(L[ch])) for ch in "DYBMMBYD" * 4]
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
open(sys.argv[2], "w").write(rows[0] + "\n")
PY
"$bz" train dybm --units binary --series "$dir/letters.csv" --delay 3 --decays 0.5 \
    --epochs 200 --lr 0.05 --test-split 0 --out "$dir/l.st" --quiet || fail "letters training"
"$bz" sample --model "$dir/l.st" --series "$dir/seed.csv" --steps 31 --mean \
    --out "$dir/gen.csv" 2> /dev/null || fail "letters sampling"
python3 - "$dir/letters.csv" "$dir/gen.csv" <<'PY' || fail "the letters were not regenerated"
import sys
want = [list(map(float, l.split(","))) for l in open(sys.argv[1])][1:]
got = [list(map(float, l.split(","))) for l in open(sys.argv[2])]
assert got == want, "%d of %d steps differ" % (sum(a != b for a, b in zip(got, want)), len(want))
PY

# refusals: exit 1, the file named, the line where there is one
printf 'a,b\n1,2\n3\n4,5\n' > "$dir/ragged.csv"
printf '1,2\n3,NaN\n4,5\n' > "$dir/nan.csv"
printf '1\n2\n3\n4\n' > "$dir/short.csv"
for f in ragged:"line 3" nan:"line 2" short:"too few for delay 4"; do
    name=${f%%:*}; want=${f#*:}
    "$bz" train dybm --series "$dir/$name.csv" --delay 4 --out "$dir/x.st" --quiet \
        2> "$dir/err" && fail "$name.csv was accepted"
    grep -q "$name.csv" "$dir/err" && grep -q "$want" "$dir/err" ||
        fail "$name.csv: $(cat "$dir/err")"
done
"$bz" predict --model "$dir/a.st" --series "$dir/letters.csv" --out "$dir/q.csv" 2> "$dir/err" &&
    fail "a series of other width was accepted"
grep -q "35 variables" "$dir/err" || fail "width: $(cat "$dir/err")"
[ -f "$dir/x.st" ] && fail "a refused run wrote a model"
exit 0
