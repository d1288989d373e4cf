#!/usr/bin/env bash
# Installs the built tree into a scratch prefix (meson install --destdir) and
# builds examples/dbn_classify.c against it the way a user would, through
# pkg-config alone; then checks what was installed: the library's soname,
# the header, boltzcl.pc, the man page, and that the program runs against
# the installed library (ldd), printing its version.
# Usage: tools/check_install.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
prefix=$(meson introspect "$build" --buildoptions |
  python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
libdir=$(meson introspect "$build" --buildoptions |
  python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="libdir"))')
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
meson install -C "$build" --destdir "$scratch" --quiet
root=$scratch$prefix
lib=$scratch$libdir
fail() { echo "check_install: $*" >&2; exit 1; }
[ -f "$root/include/boltzcl.h" ] || fail "boltzcl.h not installed"
[ -f "$root/share/man/man1/boltzcl.1" ] || fail "the man page boltzcl.1 not installed"
[ -x "$root/bin/boltzcl" ] || fail "the boltzcl command not installed"
[ -f "$lib/pkgconfig/boltzcl.pc" ] || fail "boltzcl.pc not installed"
soname=$(objdump -p "$lib/libboltzcl.so" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = "libboltzcl.so.1" ] || fail "soname is '$soname', expected libboltzcl.so.1"
# pkg-config reads the installed .pc with the prefix moved under the scratch root
export PKG_CONFIG_PATH=$lib/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$scratch
cflags=$(pkg-config --cflags boltzcl)
libs=$(pkg-config --libs boltzcl)
cc -std=c11 -Wall -Wextra -Werror examples/dbn_classify.c $cflags $libs -o "$scratch/dbn_classify"
LD_LIBRARY_PATH=$lib ldd "$scratch/dbn_classify" | grep -q "$lib/libboltzcl.so.1" ||
  fail "the example does not resolve libboltzcl from the installed copy"
# boltzcl-tune: every bz_ symbol it imports is an export of the installed
# library, and it defines none of the library's own (only its option parser)
nm -D --defined-only "$lib/libboltzcl.so" | awk '$3 ~ /^bz_/ { print $3 }' | sort -u >"$scratch/exports"
nm -D --undefined-only "$root/bin/boltzcl-tune" | awk '$2 ~ /^bz_/ { print $2 }' | sort -u >"$scratch/tune_imports"
[ -s "$scratch/tune_imports" ] || fail "boltzcl-tune imports nothing from libboltzcl"
extra=$(comm -23 "$scratch/tune_imports" "$scratch/exports")
[ -z "$extra" ] || fail "boltzcl-tune needs bz_ symbols the library does not export: $extra"
own=$(nm --defined-only "$root/bin/boltzcl-tune" | awk '$3 ~ /^bz_/ && $3 !~ /^bz_(cmd|args)_/ { print $3 }')
[ -z "$own" ] || fail "boltzcl-tune carries library code: $own"
undefined=$(nm -D --undefined-only "$root/bin/boltzcl" | awk '$2 ~ /^bz_/' | wc -l)
echo "check_install: installed under $root; example built with: $cflags $libs"
echo "check_install: soname $soname; boltzcl-tune imports $(wc -l <"$scratch/tune_imports") bz_ symbols, all from libboltzcl.so.1; the boltzcl command still links the static core ($undefined bz_ imports)"
