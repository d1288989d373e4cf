#!/bin/sh
# boltzcl anneal end to end: a 20-vertex bipartite graph (maximum cut: every
# edge) in G-set form, a small QUBO and an Ising chain with known optima, the
# --json keys, the assignment file, Ctrl-C, and refusals of bad files and options.
# Usage: anneal_cli.sh BOLTZCL; exits 77 (skipped) without an OpenCL device.
set -u
bz=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

if ! "$bz" devices >/dev/null 2>&1; then echo "no OpenCL device" >&2; exit 77; fi

# vertices 1..10 against 11..20, i and 10 + j joined when (i + j) % 3 == 0: 33 edges
edges=""
i=1; while [ $i -le 10 ]; do j=1; while [ $j -le 10 ]; do
  [ $(((i + j) % 3)) -eq 0 ] && edges="$edges$i $((10 + j)) 1
"
  j=$((j + 1)); done; i=$((i + 1)); done
m=$(printf '%s' "$edges" | grep -c .)
[ "$m" -eq 33 ] || fail "the test graph has $m edges"
{ echo "20 $m"; printf '%s' "$edges"; } > "$dir/bip"
"$bz" anneal --problem "$dir/bip" --replicas 4 --sweeps 300 --target 33 --seed 3 \
    --out "$dir/bip.sol" --json > "$dir/bip.json" 2> "$dir/bip.err" || fail "bipartite run: $(cat "$dir/bip.err")"
python3 - "$dir/bip.json" "$dir/bip.sol" <<'PY' || fail "bipartite output"
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("best_cut", "best_energy", "seconds", "time_to_target", "sweeps", "spin_updates_per_s",
          "trace", "replicas"):
    assert k in d, k
assert d["best_cut"] == 33 and d["best_energy"] == -33, d
assert d["time_to_target"] is not None and 0 <= d["time_to_target"] <= d["seconds"], d
assert d["spin_updates_per_s"] > 0 and d["sweeps"] >= 1, d
side = [int(l) for l in open(sys.argv[2])]
assert len(side) == 20 and set(side) <= {0, 1}, side
edges = [tuple(map(int, l.split()[:2])) for l in open(sys.argv[1].replace(".json", ""))][1:]
assert all(side[u - 1] != side[v - 1] for u, v in edges), side

PY
grep -q "target 33 reached" "$dir/bip.err" || fail "no time to target line"

# QUBO: minimise -x0 - x1 + 2 x0 x1 - x2 (optimum -2, e.g. x = 1 0 1)
printf '# QUBO\n0 0 -1\n1 1 -1\n0 1 2\n2 2 -1\n' > "$dir/q.txt"
"$bz" anneal --problem "$dir/q.txt" --qubo --sweeps 200 --json > "$dir/q.json" 2>/dev/null || fail "qubo run"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['best_energy'] == -2 and 'best_cut' not in d and d['time_to_target'] is None, d" "$dir/q.json" || fail "qubo result"

# Ising chain with a field, by parallel tempering: E = s0 s1 + s1 s2 + 0.5 s0; minimum -2.5
printf '0 1 1\n1 2 1\n0 0 0.5\n' > "$dir/i.txt"
"$bz" anneal --problem "$dir/i.txt" --ising --pt --temps 4 --sweeps 200 --json > "$dir/i.json" 2>/dev/null || fail "pt run"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['best_energy'] == -2.5 and len(d['levels']) == 4, d" "$dir/i.json" || fail "pt result"

# the problem saved as a boltzcl model file (kind ising) and solved from it;
# the file carries its kind; the per-model commands say what it is for
"$bz" anneal --problem "$dir/q.txt" --qubo --sweeps 50 --save-problem "$dir/q.safetensors" --quiet >/dev/null 2>&1 || fail "--save-problem"
"$bz" anneal --problem "$dir/q.safetensors" --sweeps 200 --json > "$dir/q2.json" 2>/dev/null || fail "saved problem run"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['best_energy'] == -2 and d['kind'] == 'QUBO', d" "$dir/q2.json" || fail "saved problem result"
"$bz" anneal --problem "$dir/q.safetensors" --maxcut 2> "$dir/k.err"; [ $? -eq 2 ] || fail "saved problem, other kind"
grep -q "saved QUBO problem; drop --maxcut" "$dir/k.err" || fail "kind message: $(cat "$dir/k.err")"
"$bz" sample --model "$dir/q.safetensors" --out "$dir/s.png" 2> "$dir/k.err"; [ $? -eq 1 ] || fail "sample on a problem"
grep -q "holds ising model.*solve it with boltzcl anneal" "$dir/k.err" || fail "sample message: $(cat "$dir/k.err")"
[ ! -e "$dir/s.png" ] || fail "sample wrote for a problem"
"$bz" eval --model "$dir/q.safetensors" 2>/dev/null; [ $? -eq 1 ] || fail "eval on a problem"

# Ctrl-C: the best so far is reported and written, exit status 130
{ echo "200 600"; i=0; while [ $i -lt 600 ]; do echo "$((i % 200 + 1)) $(((i * 7 + 3) % 200 + 1)) 1"; i=$((i + 1)); done; } | awk 'NR == 1 || $1 != $2' > "$dir/g.raw"
m=$(($(wc -l < "$dir/g.raw") - 1))
{ echo "200 $m"; tail -n +2 "$dir/g.raw"; } > "$dir/g"
"$bz" anneal --problem "$dir/g" --seconds 60 --out "$dir/g.sol" --json > "$dir/g.json" 2>/dev/null &
pid=$!
sleep 3
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] || fail "interrupted run: exit status $rc"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['interrupted'] is True and d['best_cut'] > 0 and d['seconds'] < 30, d" "$dir/g.json" || fail "interrupted result"
[ "$(wc -l < "$dir/g.sol")" -eq 200 ] || fail "interrupted run: no assignment"

# bad files: exit 1, the file and line named, no output file written
printf '20 2\n1 2 1\n1 21 1\n' > "$dir/bad"
"$bz" anneal --problem "$dir/bad" --out "$dir/bad.sol" 2> "$dir/bad.err"
[ $? -eq 1 ] || fail "bad file exit status"
grep -q "bad:3: vertex 21 out of range 1..20" "$dir/bad.err" || fail "bad file message: $(cat "$dir/bad.err")"
[ ! -e "$dir/bad.sol" ] || fail "solution written for a bad file"
"$bz" anneal --problem "$dir/missing" 2> "$dir/m.err"; [ $? -eq 1 ] || fail "missing file"
grep -q "missing" "$dir/m.err" || fail "missing file message"
# the files checked before any work: the output is the problem, a FIFO as
# the problem or the output, an output folder that does not exist
cp "$dir/bip" "$dir/keep"
"$bz" anneal --problem "$dir/keep" --out "$dir/keep" 2> "$dir/f.err"; [ $? -eq 2 ] || fail "--out = --problem"
grep -q "same file" "$dir/f.err" || fail "--out = --problem message: $(cat "$dir/f.err")"
cmp -s "$dir/bip" "$dir/keep" || fail "the problem file was overwritten"
mkfifo "$dir/fifo"
"$bz" anneal --problem "$dir/fifo" 2> "$dir/f.err"; [ $? -eq 1 ] || fail "FIFO problem"
grep -q "FIFO" "$dir/f.err" || fail "FIFO problem message: $(cat "$dir/f.err")"
"$bz" anneal --problem "$dir/bip" --out "$dir/fifo" 2> "$dir/f.err"; [ $? -ne 0 ] || fail "FIFO output"
grep -q "not a regular file\|FIFO" "$dir/f.err" || fail "FIFO output message: $(cat "$dir/f.err")"
"$bz" anneal --problem "$dir/bip" --out "$dir/no/such/dir/x.sol" 2> "$dir/f.err"; [ $? -eq 1 ] || fail "missing output folder"
"$bz" anneal --problem "$dir/bip" --schedule cubic 2>/dev/null; [ $? -eq 2 ] || fail "bad schedule"
"$bz" anneal --problem "$dir/bip" --maxcut --qubo 2>/dev/null; [ $? -eq 2 ] || fail "two kinds"
echo "anneal CLI: all checks passed"
