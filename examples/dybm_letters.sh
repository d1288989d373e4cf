#!/bin/sh
# A binary dynamic Boltzmann machine memorises a sequence of 7 x 5 letter
# bitmaps, D Y B M, then the same in reverse, M B Y D (repeated four times),
# and regenerates it from the first letter alone: each step the unit fires
# when its probability given the FIFO of the last two patterns and the
# eligibility trace of older ones is above one half.
# Usage: examples/dybm_letters.sh [BOLTZCL]   (default: boltzcl on PATH)
set -eu
bz=${1:-boltzcl}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
letter() {
    case $1 in
    D) echo "####. #...# #...# #...# #...# #...# ####." ;;
    Y) echo "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#.." ;;
    B) echo "####. #...# #...# ####. #...# #...# ####." ;;
    M) echo "#...# ##.## #.#.# #.#.# #...# #...# #...#" ;;
    esac
}
# one CSV row of 35 zeros and ones per letter
row() { letter "$1" | tr -d ' ' | sed 's/#/1,/g; s/\./0,/g; s/,$//'; }
: > "$dir/letters.csv"
for rep in 1 2 3 4; do
    for l in D Y B M M B Y D; do row $l >> "$dir/letters.csv"; done
done
row D > "$dir/seed.csv"
"$bz" train dybm --units binary --series "$dir/letters.csv" --delay 3 --decays 0.5 \
    --epochs 200 --lr 0.05 --test-split 0 --out "$dir/letters.st" --quiet
"$bz" sample --model "$dir/letters.st" --series "$dir/seed.csv" --steps 31 --mean \
    --out "$dir/gen.csv" 2> /dev/null
# the seed and the first eight generated steps, as pictures
{ cat "$dir/seed.csv"; head -n 8 "$dir/gen.csv"; } | awk -F, '
    { for (i = 1; i <= 35; i++) p[NR, i] = ($i + 0 > 0.5) ? "#" : "." }
    END { for (r = 0; r < 7; r++) { s = ""
            for (n = 1; n <= NR; n++) { for (c = 1; c <= 5; c++) s = s p[n, r * 5 + c]; s = s "  " }
            print s } }'
tail -n +2 "$dir/letters.csv" | awk -F, '{ for (i = 1; i <= NF; i++) $i = $i + 0; print }' \
    > "$dir/want.txt"
awk -F, '{ for (i = 1; i <= NF; i++) $i = $i + 0; print }' "$dir/gen.csv" > "$dir/got.txt"
if cmp -s "$dir/want.txt" "$dir/got.txt"; then
    echo "all 31 generated steps match the sequence"
else
    echo "the generated sequence differs from the memorised one" >&2
    exit 1
fi
