#!/usr/bin/env bash
# Installs every Debian package the engine needs to build, run and test.
# One list, used by README.md and .ci/run alike.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
BUILD_PKGS="build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev libarchive-dev libssl-dev libcurl4-openssl-dev"
RUN_PKGS="runc crun busybox-static iproute2 util-linux"
TEST_PKGS="python3-pytest python3-docker python3-requests docker-registry skopeo apache2-utils openssl zstd curl xfsprogs"
want="$BUILD_PKGS $RUN_PKGS"
if [ "${1:-}" = "--test" ]; then
    want="$want $TEST_PKGS"
fi
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    apt-get update
    apt-get install -y --no-install-recommends $missing
fi
