#!/usr/bin/env bash
# Configures and builds into ./build (Release with debug info, warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
if ! cmake --build build -j "$(nproc)" >build/build.log 2>&1; then
    cat build/build.log
    echo "build failed" >&2
    exit 1
fi
grep -E "warning|error" build/build.log || true
