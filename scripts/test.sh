#!/usr/bin/env bash
# Installs the build and test dependencies, builds, and runs all tests: C unit tests (CTest), then the
# integration tests (pytest) against a private isulad started by the test session.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh
(cd build && ctest --output-on-failure)
ISD_BUILD_DIR="$PWD/build" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration "$@"
