#!/usr/bin/env bash
# For a fresh Debian 12 machine, as root: installs the packages, builds and installs the engine to
# /usr/local, starts isulad with its default configuration, and runs a first container from the built-in
# busybox image.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cmake --install build >/dev/null
mkdir -p /etc/sysconfig
getent group isulad >/dev/null || groupadd --system isulad
if ! isula version >/dev/null 2>&1; then
    mkdir -p /var/lib/isulad
    nohup isulad >/var/lib/isulad/isulad.out 2>&1 &
    for _ in $(seq 100); do isula version >/dev/null 2>&1 && break; sleep 0.1; done
fi
isula rm -f hello >/dev/null 2>&1 || true
isula run --name hello busybox echo "Hello from isulad!"
isula ps -a
