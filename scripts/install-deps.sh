#!/usr/bin/env bash
# Installs every Debian package the engine needs to build and run; with --test also what the tests need,
# with --bench also the other engines the benchmarks compare with. One list, used by README.md, the
# scripts and .ci/run alike.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
BUILD_PKGS="build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev libarchive-dev nettle-dev zlib1g-dev libcurl4-openssl-dev libgnutls28-dev libgrpc-dev protobuf-c-compiler libprotobuf-c-dev libyaml-dev"
# libyaml-0-2: CDI spec files in YAML (src/daemon/spec/spec_cdi_yaml.c)
# libcurl4: isulad loads it at the first registry request (dlopen)
# containernetworking-plugins: the CNI plugins (in /usr/lib/cni); iptables: portmap and firewall use it
RUN_PKGS="runc crun busybox-static iproute2 util-linux libcurl4 libyaml-0-2 containernetworking-plugins iptables"
# qemu-system-x86: the rootfs quota test runs in a VM whose kernel (Debian's, fetched below) has xfs quotas
# squashfs-tools: mksquashfs makes the image of the --mount type=squashfs test
# apparmor: apparmor_parser (and the ABI files profiles name), put into the VM test, where Debian's kernel has AppArmor
# on and isulad loads its built-in profile isulad-default with it; users' AppArmor hosts have it already (Debian and
# Ubuntu install it with AppArmor), and need it for the default profile
# clang-format: scripts/test.sh checks the formatting of src/ and tests/ (clang-format 14 reads .clang-format)
TEST_PKGS="clang-format libcap2-bin python3-pytest python3-grpcio python3-grpc-tools python3-websocket python3-docker python3-requests docker-registry skopeo apache2-utils openssl zstd curl xfsprogs qemu-system-x86 squashfs-tools apparmor"
# Other engines for the benchmarks to run side by side (bench/bench.py --docker, bench/bench_pull.py --dockerd,
# bench/bench_cri.py: Debian's containerd 1.6 with its CRI plugin; bench/bench_network.py --start-dockerd --podman).
# podman: Debian's 4.3 (conmon; runc is already here), with netavark as its network backend (the bench names it;
# aardvark-dns not needed: its networks have DNS off). podman installs /etc/cni/net.d/87-podman-bridge.conflist:
# the tests' and the benches' daemons get a cni-conf-dir of their own (tests/integration/conftest.py,
# bench/bench.py), so it is never joined.
BENCH_PKGS="docker.io containerd podman netavark"
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

# --test/--bench: Debian's kernel for the quota test VM (tests/integration/test_quota_vm.py), unpacked, not
# installed: its vmlinuz and the few modules the VM loads, in $VM_KERNEL_DIR (fetched again when one is missing,
# as after a module was added to the list). bfq: the I/O scheduler with cgroup v2 block I/O weights.
VM_KERNEL_DIR=${VM_KERNEL_DIR:-/var/cache/isulad-test/vm-kernel}
VM_MODULES="crypto/crc32c_generic lib/libcrc32c fs/xfs/xfs drivers/block/loop fs/overlayfs/overlay block/bfq"
vm_kernel_complete() {
    [ -f "$VM_KERNEL_DIR/vmlinuz" ] || return 1
    for m in $VM_MODULES; do [ -f "$VM_KERNEL_DIR/$(basename "$m").ko" ] || return 1; done
}
if [ "${1:-}" = "--test" ] || [ "${1:-}" = "--bench" ]; then
    if ! vm_kernel_complete; then
        kernel_pkg() { apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}'; }
        tmp=$(mktemp -d)
        chown _apt "$tmp" 2>/dev/null || true
        pkg=$(kernel_pkg)
        # stale package lists may name a version the archive has replaced: refresh them and ask again
        if ! (cd "$tmp" && apt-get download "$pkg"); then
            apt-get update
            pkg=$(kernel_pkg)
            (cd "$tmp" && apt-get download "$pkg")
        fi
        (cd "$tmp" && dpkg-deb -x ./*.deb x)
        ver=${pkg#linux-image-}
        mkdir -p "$VM_KERNEL_DIR"
        # only what is missing, each renamed into place: a VM of another test may be reading the others
        put() { [ -f "$2" ] || { cp "$1" "$2.tmp" && mv "$2.tmp" "$2"; }; }
        for m in $VM_MODULES; do
            put "$tmp/x/lib/modules/$ver/kernel/$m.ko" "$VM_KERNEL_DIR/$(basename "$m").ko"
        done
        put "$tmp/x/boot/vmlinuz-$ver" "$VM_KERNEL_DIR/vmlinuz"
        rm -rf "$tmp"
    fi
fi
