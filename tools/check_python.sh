#!/usr/bin/env bash
# The Python package as a user meets it: `pip install .` into a fresh
# virtual environment over Debian's python3 (numpy, scikit-learn, pytest
# and tqdm from Debian, seen through --system-site-packages), then its
# pytest suite. Run by check.sh after the C suites.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${BOLTZCL_PY_VENV:-$PWD/build/py-venv}"
rm -rf "$venv"
/usr/bin/python3 -m venv --system-site-packages "$venv"
# pip builds the wheel through meson-python (fetched by pip's isolated build).
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check .
# The command, when built, reads the files the package writes.
[ -x build/src/cli/boltzcl ] && export BOLTZCL_CLI="$PWD/build/src/cli/boltzcl"
# Tests from outside the tree, so that `import boltzcl` is the installed one.
cd "$venv"
set +e
"$venv/bin/python" -m pytest -q -rs -p no:cacheprovider "$OLDPWD/python/tests"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "check_python: pytest collected no tests" >&2
  exit 1
fi
exit "$rc"
