#!/usr/bin/env bash
# The whole test suite: the main run, then the CUDA-simulator tests in their own
# process (NUMBA_ENABLE_CUDASIM must be set before Numba is first imported).
# pytest exits 5 when it collected no test; that counts as a failure here too.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pytest -q tests --ignore=tests/cuda "$@"
NUMBA_ENABLE_CUDASIM=1 python -m pytest -q tests/cuda -k cuda "$@"
