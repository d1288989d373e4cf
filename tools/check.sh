#!/usr/bin/env bash
# Installs what is missing, builds boltzcl with warnings as errors and runs the
# test suites. With --sanitize, builds a second tree with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs the suites there too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh

# Tests compile kernels; keep POCL's cache beside the build, not in $HOME.
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$PWD/build/pocl-cache}"
suites=(--suite unit --suite cl --suite slow)

if [ ! -d build ]; then
  meson setup build -Dwerror=true
else
  meson configure build -Dwerror=true
fi
ninja -C build
# mpi: mpirun -np 2 against one process (skipped when MPI is absent); not in
# the sanitizer pass, where Open MPI's own allocations would need suppressing.
meson test -C build "${suites[@]}" --suite mpi --print-errorlogs --num-processes 2
# The installed library as a user meets it: meson install into a scratch
# root, the example built through pkg-config against it.
bash tools/check_install.sh build
# The Python package: pip install . into a venv, then its pytest suite.
bash tools/check_python.sh

if [ "${1:-}" = "--sanitize" ]; then
  if [ ! -d build-asan ]; then
    meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Dbuildtype=debugoptimized \
      -Db_lundef=false
  fi
  ninja -C build-asan
  # POCL keeps compiler state alive until exit; its leaks are not ours.
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
  # intercept_tls_get_addr=0: GCC 12's runtime guesses that a dynamic TLS
  # block whose address is 16 bytes past a 4 KiB boundary carries the header
  # of glibc 2.19-2.24 and reads the block's bounds from the 16 bytes before
  # it; POCL's libraries have dynamic TLS, their blocks are malloc'd, and
  # about one in 256 lands there. The leak checker's tracer then scans a
  # garbage range and dies at exit ("Tracer caught signal 11"), at random.
  # Since glibc 2.25 those blocks are ordinary heap blocks reachable from the
  # thread's DTV, so the leak check still sees everything they point to.
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
  meson test -C build-asan "${suites[@]}" --print-errorlogs --num-processes 2 \
    --timeout-multiplier 4
fi
