#!/bin/sh
# The layering check passes on the tree and fails on an upward include.
set -eu
script=$1
src=$2
"$script" "$src" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/engine" "$tmp/src/models"
printf '#include "engine/engine.h"\n' >"$tmp/src/models/ok.c"
printf '#include "base/error.h"\n#include "boltzcl.h"\n' >"$tmp/src/engine/ok.c"
"$script" "$tmp" >/dev/null
# the engine reaching up into models must fail, naming the file
printf '#include "models/rbm.h"\n' >"$tmp/src/engine/bad.c"
if "$script" "$tmp" 2>"$tmp/err"; then
    echo "an engine file including models/ passed the layer check" >&2
    exit 1
fi
grep -q "src/engine/bad.c includes models/" "$tmp/err"
rm "$tmp/src/engine/bad.c"
# a folder missing from the table fails too
mkdir "$tmp/src/newlayer"
printf 'int x;\n' >"$tmp/src/newlayer/a.c"
if "$script" "$tmp" 2>/dev/null; then
    echo "an unknown folder passed the layer check" >&2
    exit 1
fi
echo "layer check: ok"
