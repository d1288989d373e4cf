#!/usr/bin/env bash
# Proves boltzcl on a GPU machine that has an NVIDIA driver but no package
# registry and no internet. Two halves:
#
#   tools/gpu-check.sh prepare
#       On a Debian 12 build machine with network: downloads the runtime
#       packages (OpenCL ICD loader, CLBlast and the libraries boltzcl links),
#       unpacks them into .gpu/root, builds boltzcl and its tests into
#       .gpu/build, and copies Fashion-MNIST into .gpu/data. Carry .gpu along.
#
#   tools/gpu-check.sh run [RESULTS]
#       On the GPU machine: points the unpacked ICD loader at the driver's
#       libnvidia-opencl.so.1 (OCL_ICD_VENDORS), runs the `cl` tests on the
#       GPU, `boltzcl bench` (GEMM, element-wise, RBM epoch), a short tuning
#       pass, and the same RBM epoch and GEMMs in PyTorch when it is there.
#       Every figure goes to RESULTS (default: $OUT/gpu-results.txt or
#       .gpu/results.txt). BOLTZCL_ICD_LIBRARY overrides the driver library
#       (e.g. libpocl.so.2, to rehearse the run on a CPU machine).
#
#   tools/gpu-check.sh exec CMD [ARGS]
#       Runs CMD in the same environment, BOLTZCL naming the carried binary.
set -euo pipefail
cd "$(dirname "$0")/.."
G="$PWD/.gpu"

# What boltzcl links at run time, beyond libc and libstdc++. OpenBLAS and MPI
# are left out: the GPU build is configured without them.
pkgs=(ocl-icd-libopencl1 libclblast1 libjson-c5 libpng16-16 zlib1g libcmocka0)

prepare() {
  bash tools/deps.sh
  mkdir -p "$G/debs" "$G/root" "$G/data/fashion-mnist"
  (cd "$G/debs" && apt-get download "${pkgs[@]}")
  for d in "$G"/debs/*.deb; do dpkg -x "$d" "$G/root"; done
  rm -rf "$G/debs" "$G/root/usr/share" "$G/pocl-cache" "$G"/*.log
  # MPI stays off: the GPU machine has no Open MPI and nothing of it is carried.
  if [ -d "$G/build" ]; then
    meson configure "$G/build" -Dmpi=disabled -Dopenblas=disabled
  else
    meson setup "$G/build" -Dbuildtype=release -Dtests=enabled -Dopenblas=disabled -Dmpi=disabled
  fi
  ninja -C "$G/build"
  # Both splits (30 MB; the whole tree travels within a 64 MiB budget).
  cp /usr/share/datasets/fashion-mnist/*-ubyte.gz "$G/data/fashion-mnist/"
  du -sh "$G"
}

find_icd_library() {
  if [ -n "${BOLTZCL_ICD_LIBRARY:-}" ]; then echo "$BOLTZCL_ICD_LIBRARY"; return; fi
  local p
  p=$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so\.1/ {print $NF; exit}')
  if [ -z "$p" ]; then
    for c in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib; do
      [ -e "$c/libnvidia-opencl.so.1" ] && { p="$c/libnvidia-opencl.so.1"; break; }
    done
  fi
  # Container images mount the driver in varying places.
  [ -n "$p" ] || p=$(find / -xdev -name 'libnvidia-opencl.so.1' 2>/dev/null | head -n 1)
  [ -n "$p" ] || p=$(find /usr/local/nvidia /usr/lib* -name 'libnvidia-opencl.so*' 2>/dev/null | head -n 1)
  echo "$p"
}

# Checks the carried build and points an ICD file at the driver's library
# (ICD_LIB names it).
use_icd() {
  [ -d "$G/build" ] || { echo "no .gpu/build: run 'tools/gpu-check.sh prepare' first" >&2; exit 2; }
  ICD_LIB=$(find_icd_library)
  [ -n "$ICD_LIB" ] || { echo "no libnvidia-opencl.so.1 found; set BOLTZCL_ICD_LIBRARY" >&2; exit 2; }
  mkdir -p "$G/icd"
  echo "$ICD_LIB" > "$G/icd/boltzcl-check.icd"
}

# A command with the carried libraries and data. Only boltzcl's own processes
# get them; PyTorch keeps the system's.
bz() {
  env LD_LIBRARY_PATH="$G/root/usr/lib/x86_64-linux-gnu:$G/root/lib/x86_64-linux-gnu" \
    OCL_ICD_VENDORS="$G/icd" BOLTZCL_DATA_DIR="$G/data" XDG_CACHE_HOME="$G/cache" \
    POCL_CACHE_DIR="$G/pocl-cache" BOLTZCL="$G/build/src/cli/boltzcl" "$@"
}

run() {
  local results="${1:-${OUT:+$OUT/gpu-results.txt}}"
  results="${results:-$G/results.txt}"
  use_icd
  local lib=$ICD_LIB B="$G/build/src/cli/boltzcl"
  {
    echo "# boltzcl GPU check, $(date -u +%FT%TZ)"
    echo "# ICD library: $lib"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
    echo "## devices"
    bz "$B" devices --check 2>&1 || true
    echo "## cl tests"
    local pass=0 fail=0
    for t in "$G"/build/tests/cl/test_cl_*; do
      [ -f "$t" ] && [ -x "$t" ] || continue
      local s=0; bz timeout 300 "$t" > "$G/$(basename "$t").log" 2>&1 || s=$?
      if [ "$s" -eq 0 ]; then pass=$((pass + 1)); echo "PASS $(basename "$t")";
      else fail=$((fail + 1)); echo "FAIL $(basename "$t") (exit $s)"; tail -n 20 "$G/$(basename "$t").log"; fi
    done
    echo "$pass passed, $fail failed"
    echo "## bench gemm"; bz "$B" bench gemm --json 2>&1 || true
    echo "## bench ops"; bz "$B" bench ops --json 2>&1 || true
    echo "## bench rbm (784-500, CD-1, batch 100, Fashion-MNIST)"
    bz timeout 120 "$B" bench rbm --epochs 3 --json 2>&1 || true
    echo "## DBN fine-tuning epoch (784-500-500-10, batch 32, no pretraining, 2 epochs)"
    bz timeout 120 "$B" train dbn --data fashion-mnist --layers 500,500 --no-pretrain \
      --finetune-epochs 2 --out "$G/dbn.safetensors" --overwrite --json --quiet 2>&1 || true
    echo "## bench dbm"
    bz timeout 120 "$B" bench dbm --rows 0 --json 2>&1 | tail -n 5 || true
    echo "## tune (60 s)"; bz timeout 150 "$B" tune --seconds 60 --out "$G/tuning.jsonl" 2>&1 | tail -n 15 || true
    echo "## bench gemm after tuning"
    BOLTZCL_TUNING_FILE="$G/tuning.jsonl" bz "$B" bench gemm --json 2>&1 || true
    echo "## bench rbm after tuning"
    BOLTZCL_TUNING_FILE="$G/tuning.jsonl" bz timeout 120 "$B" bench rbm --epochs 3 --json 2>&1 || true
    echo "## PyTorch on the same GPU"
    timeout 120 python3 tools/gpu/torch_rbm.py --data "$G/data/fashion-mnist" 2>&1 || echo "PyTorch not available"
    timeout 120 python3 tools/bench/torch_dbn.py --device cuda --data "$G/data/fashion-mnist" 2>&1 || true
  } 2>&1 | tee "$results"
  echo "results in $results"
}

# Any command in the carried environment, with BOLTZCL naming the binary:
# for experiments that belong beside the check (tools/bench/dbm_vs_rbm.sh).
exec_in() {
  use_icd
  bz "$@"
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  exec) shift; exec_in "$@" ;;
  *) echo "usage: tools/gpu-check.sh prepare | run [RESULTS] | exec CMD [ARGS]" >&2; exit 2 ;;
esac
