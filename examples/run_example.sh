#!/bin/sh
# Runs dbn_classify on Fashion-MNIST when the data is installed (77: skip).
set -eu
exe=$1
rows=$2
least=$3
data=${BOLTZCL_DATA_DIR:-/usr/share/datasets}/fashion-mnist
if [ ! -e "$data/train-images-idx3-ubyte.gz" ] && [ ! -e "$data/train-images-idx3-ubyte" ]; then
    echo "skipping: no Fashion-MNIST in $data" >&2
    exit 77
fi
"$exe" fashion-mnist fashion-mnist:test "$rows" "$least"
rm -f dbn_classify.safetensors
