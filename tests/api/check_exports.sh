#!/bin/sh
# Every function the shared library exports is called by the public API
# test, and the test links nothing but the shared library (and cmocka): its
# undefined bz_ symbols are exactly the library's exports.
set -eu
lib=$1
test_bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 == "T" && $3 ~ /^bz_/ { print $3 }' | sort -u >"$tmp/exported"
nm --undefined-only "$test_bin" | awk '$2 ~ /^bz_/ { print $2 }' | sort -u >"$tmp/used"
# the test must not carry library code of its own
if nm --defined-only "$test_bin" | awk '$3 ~ /^bz_/' | grep -q .; then
    echo "the API test defines bz_ symbols: it links more than the shared library" >&2
    nm --defined-only "$test_bin" | awk '$3 ~ /^bz_/' >&2
    exit 1
fi
missing=$(comm -23 "$tmp/exported" "$tmp/used")
if [ -n "$missing" ]; then
    echo "exported but not exercised by the API test:" >&2
    echo "$missing" >&2
    exit 1
fi
echo "$(wc -l <"$tmp/exported") exported functions, all called by the API test"
