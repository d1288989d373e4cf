#!/bin/sh
# Fails when a source folder includes a header of a folder above it.
#
# The layers, each allowed to include only itself and those listed (so the
# folder graph has no cycle: every folder lists only folders defined above it
# in this table):
#   base    error records, crash-safe files
#   io      data and model file formats          base
#   engine  devices, context, programs, buffers  base
#   ref     host reference arithmetic            (nothing)
#   ops     kernels                              engine base
#   tuning  tuning files and their application   io engine base
#   blas    CLBlast products                     ops tuning engine base
#   dist    MPI communicator                     engine base
#   tuner   the GEMM tuner                       blas ops ref tuning engine base
#   models  RBM, DBN, DBM and their registry     dist blas ops ref io tuning engine base
#   api     the public bz_model, data, devices   models dist blas ops ref io tuning tuner engine base
#   cli     the boltzcl command                  (everything; converted commands use boltzcl.h only)
# boltzcl.h, the public header, may be included anywhere.
#
# Usage: tools/check_layers.sh [SOURCE_ROOT]   (default: the repository)
set -eu
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
allowed() {
    case $1 in
    base) echo "base" ;;
    io) echo "io base" ;;
    engine) echo "engine base" ;;
    ref) echo "ref" ;;
    ops) echo "ops engine base" ;;
    tuning) echo "tuning io engine base" ;;
    blas) echo "blas ops tuning engine base" ;;
    dist) echo "dist engine base" ;;
    tuner) echo "tuner blas ops ref tuning engine base" ;;
    models) echo "models dist blas ops ref io tuning engine base" ;;
    api) echo "api models dist blas ops ref io tuning tuner engine base" ;;
    cli) echo "cli api models dist blas ops ref io tuning tuner engine base" ;;
    *) echo "" ;;
    esac
}
bad=0
for dir in "$root"/src/*/; do
    layer=$(basename "$dir")
    ok=$(allowed "$layer")
    if [ -z "$ok" ]; then
        echo "check_layers: src/$layer is not in the layer table of tools/check_layers.sh" >&2
        bad=1
        continue
    fi
    for f in "$dir"*.c "$dir"*.h; do
        [ -e "$f" ] || continue
        # #include "folder/file.h" lines only; <...> and "boltzcl.h" are free
        for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\)\/[^"]*".*/\1/p' "$f" | sort -u); do
            case " $ok " in
            *" $inc "*) ;;
            *)
                echo "check_layers: src/$layer/$(basename "$f") includes $inc/, a layer above $layer" >&2
                bad=1
                ;;
            esac
        done
    done
done
[ $bad -eq 0 ] && echo "check_layers: every include goes down the layers"
exit $bad
