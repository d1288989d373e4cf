#!/usr/bin/env bash
# The main job from a fresh Debian 12 machine: install what is missing, build,
# train an RBM on Fashion-MNIST, and write the model, its filters, samples
# and reconstructions into out/. Extra arguments go to `boltzcl train rbm`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
[ -d build ] || meson setup build
ninja -C build
mkdir -p out
./build/src/cli/boltzcl devices
./build/src/cli/boltzcl train rbm --data fashion-mnist --hidden 500 --epochs 10 \
  --out out/rbm.safetensors --filters out/filters.png --samples out/samples.png \
  --recon out/recon.png --log out/metrics.jsonl --overwrite "$@"
./build/src/cli/boltzcl eval --model out/rbm.safetensors --data fashion-mnist:test
