import os

# Kernels compiled once per machine, not per test process.
os.environ.setdefault("POCL_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "pocl"))
