"""Rootfs quota enforcement on a kernel that has xfs project quotas (this project's machines run a kernel
without quota support, see test_images_quota.py): a small VM under qemu boots Debian's kernel
($VM_KERNEL_DIR, fetched by scripts/install-deps.sh --test) with an initramfs made here of busybox,
mkfs.xfs and build/quota_check. Inside, an xfs file system on a loop device is mounted with prjquota and
quota_check runs the layer store's rootfs quota code on it: container rootfs limited to 1 and 3 MiB stop
writes at their limit, an unlimited one does not. Everything lives in a temp dir removed at the end; the
VM has no network and no disk of the host."""
import os
import shutil
import stat
import subprocess
import tempfile

import pytest

from conftest import bin_path

KERNEL_DIR = os.environ.get("VM_KERNEL_DIR", "/var/cache/isulad-test/vm-kernel")
MODULES = ["crc32c_generic", "libcrc32c", "xfs", "loop", "overlay"]

INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in %(modules)s; do insmod /lib/modules/$m.ko || echo "VM: insmod $m failed"; done
mount -t tmpfs -o size=700m tmp /tmp
dd if=/dev/zero of=/tmp/xfs.img bs=1M count=0 seek=400 2>/dev/null
losetup /dev/loop0 /tmp/xfs.img || echo "VM: losetup failed"
mkfs.xfs -q /dev/loop0 || echo "VM: mkfs.xfs failed"
mkdir -p /mnt
mount -t xfs -o prjquota /dev/loop0 /mnt || echo "VM: mount failed"
grep /mnt /proc/mounts
/quota_check /mnt
echo "VM: done"
poweroff -f
"""


def libs_of(path):
    """The shared libraries (and the loader) path needs, from ldd."""
    out = subprocess.run(["ldd", path], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        parts = line.split()
        for p in parts:
            if p.startswith("/"):
                found.append(p)
                break
    return found


def cpio_newc(entries, out_path):
    """Writes an uncompressed newc cpio: entries are (name, mode, data bytes or symlink target)."""
    with open(out_path, "wb") as f:
        ino = 1
        for name, mode, data in entries + [("TRAILER!!!", 0, b"")]:
            if isinstance(data, str):
                data = data.encode()
            nb = name.encode() + b"\0"
            hdr = "070701" + "".join("%08X" % v for v in (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0))
            f.write(hdr.encode() + nb)
            f.write(b"\0" * ((4 - (110 + len(nb)) % 4) % 4))
            f.write(data)
            f.write(b"\0" * ((4 - len(data) % 4) % 4))
            ino += 1


def build_initramfs(path):
    files, dirs = {}, {"bin", "sbin", "proc", "sys", "dev", "tmp", "mnt", "lib", "lib/modules", "etc"}

    def add(src, dest):
        with open(src, "rb") as f:
            files[dest] = (stat.S_IFREG | 0o755, f.read())
        parent = os.path.dirname(dest)
        while parent:
            dirs.add(parent)
            parent = os.path.dirname(parent)

    add("/bin/busybox", "bin/busybox")
    add(bin_path("quota_check"), "quota_check")
    mkfs = shutil.which("mkfs.xfs")
    add(mkfs, "sbin/mkfs.xfs")
    for exe in (bin_path("quota_check"), mkfs):
        for lib in libs_of(exe):
            add(os.path.realpath(lib), lib.lstrip("/"))
    for m in MODULES:
        add(os.path.join(KERNEL_DIR, m + ".ko"), "lib/modules/%s.ko" % m)
    files["init"] = (stat.S_IFREG | 0o755, (INIT % {"modules": " ".join(MODULES)}).encode())
    files["etc/mtab"] = (stat.S_IFLNK | 0o777, "/proc/mounts")
    entries = [(d, stat.S_IFDIR | 0o755, b"") for d in sorted(dirs)]
    entries += [(name, mode, data) for name, (mode, data) in sorted(files.items())]
    cpio_newc(entries, path)


@pytest.mark.skipif(not os.path.exists(os.path.join(KERNEL_DIR, "vmlinuz")) or shutil.which("qemu-system-x86_64")
                    is None or shutil.which("mkfs.xfs") is None,
                    reason="needs qemu-system-x86, xfsprogs and the VM kernel (scripts/install-deps.sh --test)")
def test_rootfs_quota_is_enforced_on_xfs_with_project_quotas():
    work = tempfile.mkdtemp(prefix="isd-vm-", dir="/tmp")
    try:
        initrd = os.path.join(work, "initrd.cpio")
        build_initramfs(initrd)
        accel = ["-accel", "kvm"] if os.access("/dev/kvm", os.R_OK | os.W_OK) else ["-accel", "tcg"]
        cmd = ["qemu-system-x86_64", "-m", "1024", "-smp", "1", "-nographic", "-no-reboot", "-nodefaults",
               "-serial", "stdio", "-net", "none", "-kernel", os.path.join(KERNEL_DIR, "vmlinuz"), "-initrd", initrd,
               "-append", "console=ttyS0 panic=-1 quiet loglevel=3"] + accel
        r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=600,
                           stdin=subprocess.DEVNULL)
        out = r.stdout
        assert "VM: done" in out, "the VM did not run the check to its end:\n" + out[-4000:]
        assert "VM: " not in out.replace("VM: done", ""), out[-4000:]
        assert " /mnt xfs " in out and "prjquota" in out, out[-4000:]
        assert "QUOTA-CHECK PASS" in out, out[-4000:]
        assert "limit 1048576: stopped at" in out and "limit 3145728: stopped at" in out, out[-4000:]
        assert "no limit: wrote 2097152 bytes" in out, out[-4000:]
    finally:
        shutil.rmtree(work, ignore_errors=True)
