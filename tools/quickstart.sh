#!/usr/bin/env bash
# The main job from a fresh Debian 12 machine: install what is missing, build,
# and train an RBM on Fashion-MNIST, writing samples, filters and the model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
[ -d build ] || meson setup build
ninja -C build
mkdir -p out
./build/src/cli/boltzcl devices
./build/src/cli/boltzcl bench gemm
