#!/usr/bin/env bash
# Installs the Debian packages boltzcl needs to build, test and train, when
# any is missing. Run as root or with sudo available.
set -euo pipefail
pkgs=(
  build-essential meson ninja-build pkg-config python3
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo
  libclblast-dev libcmocka-dev libpng-dev zlib1g-dev libjson-c-dev libopenblas-dev
  dataset-fashion-mnist valgrind
  libopenmpi-dev openmpi-bin
  python3-venv python3-pip python3-numpy python3-sklearn python3-pytest python3-tqdm
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
