#!/bin/sh
# boltzcl train cf / eval / predict / recommend end to end on synthetic
# ratings that the script makes (60 users, 40 items, two tastes), in the
# four file layouts: the --json keys, a test file, a resumed run, the
# file's ids in predictions, Ctrl-C, and refusals of bad files.
# Usage: cf_cli.sh BOLTZCL; exits 77 (skipped) without an OpenCL device.
set -u
bz=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

if ! "$bz" devices >/dev/null 2>&1; then echo "no OpenCL device" >&2; exit 77; fi

# user u (id 1000 + u) likes items (id 7 * i + 3) of its own half: 5 or 4.5,
# else 1 or 1.5; about half the pairs rated; every 7th line held out.
python3 - "$dir" <<'PY' || fail "making the ratings"
import random, sys
d = sys.argv[1]
rnd = random.Random(5)
rows = []
for u in range(60):
    for i in range(40):
        if rnd.random() < 0.5:
            like = (u % 2) == (i % 2)
            r = rnd.choice([5.0, 4.5]) if like else rnd.choice([1.0, 1.5])
            rows.append((1000 + u, 7 * i + 3, r))
train = [r for k, r in enumerate(rows) if k % 7]
test = [r for k, r in enumerate(rows) if k % 7 == 0]
with open(d + "/ratings.csv", "w") as f:
    f.write("userId,movieId,rating,timestamp\n")
    f.writelines("%d,%d,%.1f,0\n" % r for r in train)
with open(d + "/test.dat", "w") as f:
    f.writelines("%d::%d::%.1f::0\n" % r for r in test)
with open(d + "/pairs.tsv", "w") as f:
    f.writelines("%d\t%d\n" % r[:2] for r in test)
with open(d + "/truth.csv", "w") as f:
    f.writelines("%d,%d,%.1f\n" % r for r in test)
PY

"$bz" train cf --ratings "$dir/ratings.csv" --test "$dir/test.dat" --hidden 8 --epochs 8 \
    --batch 10 --cd-every 3 --cd-max 2 --out "$dir/m.st" --log "$dir/log" --json \
    > "$dir/train.json" 2> "$dir/train.err" || fail "train cf: $(cat "$dir/train.err")"
python3 - "$dir/train.json" "$dir/log" <<'PY' || fail "train cf output: $(cat "$dir/train.err")"
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("test_rmse", "test_mae", "train_rmse", "epochs", "seconds"):
    assert k in d and d[k] is not None, k
assert d["epochs"] == 8, d
# two tastes: far better than the 1.9 of guessing the mean
assert d["test_rmse"] < 0.7, d
lines = [json.loads(l) for l in open(sys.argv[2])]
assert len(lines) == 8 and lines[-1]["cd_steps"] == 2 and lines[0]["cd_steps"] == 1, lines
PY
grep -q "epoch   8  CD-2  train rmse" "$dir/train.err" || fail "no per-epoch line"

# eval on the held-out ratings: the same RMSE as the run reported
"$bz" eval --model "$dir/m.st" --ratings "$dir/truth.csv" --json > "$dir/eval.json" \
    2> "$dir/eval.err" || fail "eval: $(cat "$dir/eval.err")"
python3 - "$dir/eval.json" "$dir/train.json" <<'PY' || fail "eval output"
import json, sys
e, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert abs(e["rmse"] - t["test_rmse"]) < 1e-3 and e["unknown_ids"] == 0, (e, t)
PY

# predict speaks the file's ids and agrees with the tastes
"$bz" predict --model "$dir/m.st" --pairs "$dir/pairs.tsv" --out "$dir/pred.csv" \
    2> "$dir/pred.err" || fail "predict: $(cat "$dir/pred.err")"
python3 - "$dir/pred.csv" <<'PY' || fail "predict output"
import sys
lines = open(sys.argv[1]).read().split()
assert lines[0] == "user,item,rating", lines[0]
ok = 0
for l in lines[1:]:
    u, i, r = l.split(",")
    u, i, r = int(u), int(i), float(r)
    assert u >= 1000 and (i - 3) % 7 == 0 and 0.5 <= r <= 5, l
    like = (u - 1000) % 2 == ((i - 3) // 7) % 2
    ok += (r > 3) == like
assert ok >= 0.9 * (len(lines) - 1), (ok, len(lines))
PY

# recommend: unrated items of the user's own taste first
"$bz" recommend --model "$dir/m.st" --user 1001 --top 5 --json > "$dir/rec.json" \
    2> "$dir/rec.err" || fail "recommend: $(cat "$dir/rec.err")"
python3 - "$dir/rec.json" "$dir/ratings.csv" <<'PY' || fail "recommend output"
import json, sys
d = json.load(open(sys.argv[1]))
rated = {int(l.split(",")[1]) for l in open(sys.argv[2]).readlines()[1:] if l.startswith("1001,")}
items = [e["item"] for e in d["items"]]
assert d["user"] == 1001 and len(items) == 5 and not set(items) & rated, d
assert all(((i - 3) // 7) % 2 == 1 for i in items), d
PY
"$bz" recommend --model "$dir/m.st" --user 5 2> "$dir/err" && fail "unknown user accepted"
grep -q "user 5 is not in the model" "$dir/err" || fail "unknown user: $(cat "$dir/err")"

# a resumed run carries on from the checkpoint to more epochs
"$bz" train cf --ratings "$dir/ratings.csv" --test "$dir/test.dat" --hidden 8 --epochs 10 \
    --batch 10 --cd-every 3 --cd-max 2 --out "$dir/m.st" --resume "$dir/m.st.ckpt" \
    --quiet --json > "$dir/res.json" 2> "$dir/res.err" || fail "resume: $(cat "$dir/res.err")"
"$bz" train cf --ratings "$dir/ratings.csv" --test "$dir/test.dat" --hidden 9 --epochs 10 \
    --batch 10 --cd-every 3 --cd-max 2 --out "$dir/m2.st" --resume "$dir/m.st.ckpt" --quiet 2> "$dir/err" && fail "resume with other settings"
grep -q "other settings" "$dir/err" || fail "resume refusal: $(cat "$dir/err")"

# Ctrl-C: a checkpoint and the command that resumes
BOLTZCL_TEST_SIGNAL_AFTER=3:2 "$bz" train cf --ratings "$dir/ratings.csv" --hidden 8 \
    --epochs 3 --batch 10 --out "$dir/c.st" 2> "$dir/int.err"
[ $? -eq 130 ] || fail "Ctrl-C exit status: $(cat "$dir/int.err")"
grep -q "resume with: boltzcl train cf" "$dir/int.err" || fail "no resume hint: $(cat "$dir/int.err")"
[ -f "$dir/c.st.ckpt" ] || fail "no checkpoint after Ctrl-C"

# refusals, naming file and line
printf '1,2,3\n1,2,4\n' > "$dir/dup.csv"
printf '1,2,3\n1,x,4\n' > "$dir/bad.csv"
printf '1\t2\t3\n1\t3\t7\n' > "$dir/scale.tsv"
printf '1,2,3\n99999999999,3,4\n' > "$dir/big.csv"
for c in "dup.csv:2: user 1 and item 2 appear twice" "bad.csv:2: item id 'x'" \
         "scale.tsv:2: rating 7 is outside the scale 1 to 5" "big.csv:2: user id '99999999999' does not fit 32 bits"; do
    f=${c%%:*}
    "$bz" train cf --ratings "$dir/$f" --scale 1:5:1 --out "$dir/x.st" --overwrite 2> "$dir/err" && fail "$f accepted"
    grep -qF "$dir/$c" "$dir/err" || fail "$f: $(cat "$dir/err")"
done
"$bz" eval --model "$dir/m.st" --ratings "$dir/scale.tsv" 2> "$dir/err" && fail "eval off the scale"
grep -q "scale.tsv:2: rating 7" "$dir/err" || fail "eval scale: $(cat "$dir/err")"
"$bz" sample --model "$dir/m.st" 2> "$dir/err" && fail "sample of a ratings model"
grep -q "does not support sample" "$dir/err" || fail "sample: $(cat "$dir/err")"
echo "cf cli: all checks passed"
