#!/usr/bin/env bash
# Builds every libFuzzer target (tests/*/fuzz_*.c, -Dfuzz=true) with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer in build-fuzz, and runs each
# for FUZZ_SECONDS (default 60) starting from its seed corpus
# (tests/<dir>/corpus/<name>). Fails when any target crashes, leaks, times out
# or trips a sanitizer; the reproducer is left in build-fuzz/fuzz-artifacts/
# (add it to the seed corpus with the fix: the unit suite replays it).
# Installs clang and libFuzzer (Debian: clang, libfuzzer-14-dev) if missing.
#
#   tools/fuzz.sh                 all targets, 60 s each
#   FUZZ_SECONDS=600 tools/fuzz.sh args tuning_db   only these, 10 minutes each
#   FUZZ_BUDGET=360 tools/fuzz.sh                  6 minutes shared by all targets (CI)
# FUZZ_BUILD names another build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
build="${FUZZ_BUILD:-build-fuzz}"

have_libfuzzer() {
  command -v clang >/dev/null 2>&1 || return 1
  local tmp
  tmp="$(mktemp -d)"
  printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
    >"$tmp/t.c"
  local ok=0
  clang -fsanitize=fuzzer,address,undefined "$tmp/t.c" -o "$tmp/t" >/dev/null 2>&1 || ok=1
  rm -rf "$tmp"
  return $ok
}

if ! have_libfuzzer; then
  echo "fuzz: installing clang and libFuzzer"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq clang libfuzzer-14-dev
  have_libfuzzer || { echo "fuzz: clang cannot link -fsanitize=fuzzer" >&2; exit 1; }
fi

if [ ! -d "$build" ]; then
  CC=clang meson setup "$build" -Dfuzz=true -Dtests=enabled -Dbuildtype=debugoptimized
fi
ninja -C "$build"

# Every fuzz_<name> binary with a seed corpus tests/<dir>/corpus/<name>.
targets=()
for exe in "$build"/tests/*/fuzz_*; do
  [ -x "$exe" ] && [ -f "$exe" ] || continue
  name="${exe##*/fuzz_}"
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then
    continue
  fi
  targets+=("$exe")
done
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no fuzz targets in $build" >&2; exit 1; }
# FUZZ_BUDGET (seconds for all targets together) keeps CI's total fixed as
# targets are added; FUZZ_SECONDS, when set, wins.
if [ -z "${FUZZ_SECONDS:-}" ] && [ -n "${FUZZ_BUDGET:-}" ]; then
  seconds=$(( FUZZ_BUDGET / ${#targets[@]} ))
  [ "$seconds" -ge 10 ] || seconds=10
fi

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0" # see check.sh
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
failed=()
summary=()
for exe in "${targets[@]}"; do
  name="${exe##*/fuzz_}"
  dir="$(basename "$(dirname "$exe")")"
  seeds="tests/$dir/corpus/$name"
  [ -d "$seeds" ] || { echo "fuzz: $name has no seed corpus $seeds" >&2; exit 1; }
  # New inputs go to a working corpus outside the source tree.
  work="$build/fuzz-corpus/$name"
  mkdir -p "$work"
  opts=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=3
        -print_final_stats=1 -artifact_prefix="$artifacts/$name-")
  dict="tests/$dir/dict/$name.dict"
  [ -f "$dict" ] && opts+=(-dict="$dict")
  log="$build/fuzz-$name.log"
  echo "fuzz: $name for ${seconds}s (seeds $seeds)"
  if "$exe" "${opts[@]}" "$work" "$seeds" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    corp=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    edges=$(sed -n 's/.*Loaded 1 modules *(\([0-9]*\) inline 8-bit counters).*/\1/p' "$log" | head -1)
    summary+=("$(printf '%-16s %11s execs  cov %5s of %5s edges  ft %6s  corpus %5s' "$name" \
      "${execs:-?}" "${cov:-?}" "${edges:-?}" "${ft:-?}" "${corp:-?}")")
  else
    failed+=("$name")
    echo "fuzz: $name FAILED; the end of $log:" >&2
    tail -n 60 "$log" >&2
    ls -1 "$artifacts/$name-"* 2>/dev/null | sed 's/^/fuzz: reproducer /' >&2 || true
  fi
done

echo
echo "fuzz summary (${seconds}s per target, ASan+UBSan):"
for line in "${summary[@]}"; do
  echo "  $line"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failing targets: ${failed[*]}" >&2
  exit 1
fi
