#!/usr/bin/env bash
# Installs every Debian package the engine needs to build and run; with --test also what the tests need,
# with --bench also the other engines the benchmarks compare with. One list, used by README.md, the
# scripts and .ci/run alike.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
BUILD_PKGS="build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev libarchive-dev nettle-dev libcurl4-openssl-dev"
# libcurl4: isulad loads it at the first registry request (dlopen)
RUN_PKGS="runc crun busybox-static iproute2 util-linux libcurl4"
TEST_PKGS="python3-pytest python3-docker python3-requests docker-registry skopeo apache2-utils openssl zstd curl xfsprogs"
# Other engines for the benchmarks to run side by side (bench/bench.py --docker, bench/bench_pull.py --dockerd)
BENCH_PKGS="docker.io"
want="$BUILD_PKGS $RUN_PKGS"
case "${1:-}" in
--test) want="$want $TEST_PKGS" ;;
--bench) want="$want $TEST_PKGS $BENCH_PKGS" ;;
esac
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    apt-get update
    apt-get install -y --no-install-recommends $missing
fi
