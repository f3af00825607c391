#!/usr/bin/env bash
# Installs the build and test dependencies, checks the formatting of the C sources (clang-format 14, the
# tree's .clang-format), builds, and runs all tests: C unit tests (CTest), then the integration tests
# (pytest) against a private isulad started by the test session.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
find src tests -name '*.[ch]' -type f -print0 | xargs -0 clang-format --dry-run --Werror
scripts/build.sh
(cd build && ctest --output-on-failure)
ISD_BUILD_DIR="$PWD/build" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration "$@"
