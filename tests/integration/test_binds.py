"""Bind mounts as the user sees them: `-v` creates a missing host directory (not `--mount`), `--mount` on the
destination of a `-v` wins (the guide's C-run-c05), ro, bind propagation honoured (a mount made on the host below a
shared source reaches an rslave bind, not an rprivate one), nested binds in the guide's order (C-run-c11),
recursively read-only binds (`rro`, bind-recursive=readonly)."""
import os
import subprocess
import tempfile

import pytest


@pytest.fixture
def hostdir():
    d = tempfile.mkdtemp(prefix="isd-binds-", dir="/tmp")
    yield d
    with open("/proc/mounts") as f:
        mounts = [line.split()[1] for line in f if d in line]
    for m in reversed(mounts):
        subprocess.run(["umount", "-l", m])
    subprocess.run(["rm", "-rf", d])


def test_v_creates_missing_source_mount_does_not(isula, hostdir):
    src = os.path.join(hostdir, "made", "here")
    assert isula.ok("run", "--rm", "-v", src + ":/x", "busybox", "sh", "-c", "echo in > /x/f; echo ok") == "ok"
    assert os.path.isdir(src) and open(os.path.join(src, "f")).read() == "in\n"
    missing = os.path.join(hostdir, "not-made")
    r = isula("run", "--rm", "--mount", "type=bind,src=%s,dst=/x" % missing, "busybox", "true")
    assert r.returncode != 0 and "bind source path does not exist" in r.stderr
    assert not os.path.exists(missing)


def test_mount_wins_over_v_on_same_destination(isula, hostdir):
    a, b = os.path.join(hostdir, "a"), os.path.join(hostdir, "b")
    for d, name in ((a, "from-a"), (b, "from-b")):
        os.makedirs(d)
        open(os.path.join(d, name), "w").close()
    out = isula.ok("run", "--rm", "-v", a + ":/m", "--mount", "type=bind,src=%s,dst=/m" % b, "busybox", "ls", "/m")
    assert out == "from-b"
    r = isula("run", "--rm", "-v", a + ":/m", "-v", b + ":/m", "busybox", "true")
    assert r.returncode != 0 and "Duplicate mount point" in r.stderr


def test_readonly_bind(isula, hostdir):
    r = isula("run", "--rm", "-v", hostdir + ":/ro:ro", "busybox", "touch", "/ro/x")
    assert r.returncode != 0 and not os.path.exists(os.path.join(hostdir, "x"))


def test_bind_propagation_honoured(isula, container, hostdir):
    src = os.path.join(hostdir, "src")
    os.makedirs(os.path.join(src, "sub"))
    subprocess.run(["mount", "--bind", src, src], check=True)
    subprocess.run(["mount", "--make-shared", src], check=True)
    slave = container("run", "-d", "-v", src + ":/m:rslave", "busybox", "sleep", "600")
    private = container("run", "-d", "-v", src + ":/m", "busybox", "sleep", "600")
    subprocess.run(["mount", "-t", "tmpfs", "isd-prop", os.path.join(src, "sub")], check=True)
    open(os.path.join(src, "sub", "seen"), "w").close()
    assert isula.ok("exec", slave, "ls", "/m/sub") == "seen"
    assert isula.ok("exec", private, "ls", "/m/sub") == ""
    spec = isula.inspect(slave)
    assert "rslave" in str(spec["HostConfig"]["Binds"])


def test_nested_binds_in_guide_order(isula, hostdir):
    outer, inner = os.path.join(hostdir, "outer"), os.path.join(hostdir, "inner")
    os.makedirs(os.path.join(outer, "abc"))
    os.makedirs(inner)
    open(os.path.join(inner, "inner-file"), "w").close()
    # the parent first, then the child inside it: the child is visible
    out = isula.ok("run", "--rm", "-v", outer + ":/mnt", "-v", inner + ":/mnt/abc", "busybox", "ls", "/mnt/abc")
    assert out == "inner-file"
    # given in the reverse order the parent is still mounted first (sorted by depth), so the child stays visible
    out = isula.ok("run", "--rm", "-v", inner + ":/mnt/abc", "-v", outer + ":/mnt", "busybox", "ls", "/mnt/abc")
    assert out == "inner-file"


@pytest.mark.skipif(not os.path.exists("/usr/bin/mksquashfs"), reason="squashfs-tools not installed")
def test_mount_squashfs_read_only(isula, container, hostdir):
    tree = os.path.join(hostdir, "tree")
    os.makedirs(tree)
    with open(os.path.join(tree, "inside"), "w") as f:
        f.write("from squashfs\n")
    img = os.path.join(hostdir, "img.sqfs")
    subprocess.run(["mksquashfs", tree, img, "-quiet", "-noappend"], check=True, capture_output=True)
    cid = container("run", "-d", "--mount", "type=squashfs,src=%s,dst=/sq" % img, "busybox", "sleep", "600")
    assert isula.ok("exec", cid, "cat", "/sq/inside") == "from squashfs"
    assert isula("exec", cid, "touch", "/sq/new").returncode != 0
    with open("/proc/mounts") as f:
        # the host side is detached: only the container holds the image
        assert not [line for line in f if line.split()[2] == "squashfs" and cid in line]
    isula.ok("rm", "-f", cid)
    assert subprocess.run(["losetup", "-j", img], capture_output=True, text=True).stdout == ""  # loop released
    r = isula("run", "--rm", "--mount", "type=squashfs,src=%s,dst=/sq" % tree, "busybox", "true")
    assert r.returncode != 0 and "image file" in r.stderr


def test_etc_files_written_per_container(isula, container):
    a = container("run", "-d", "-h", "host-a", "--dns-search", "a.example", "busybox", "sleep", "600")
    b = container("run", "-d", "-h", "host-b", "--add-host", "peer:192.0.2.9", "busybox", "sleep", "600")
    assert isula.ok("exec", a, "cat", "/etc/hostname") == "host-a"
    assert isula.ok("exec", b, "cat", "/etc/hostname") == "host-b"
    assert "127.0.0.1\thost-a" in isula.ok("exec", a, "cat", "/etc/hosts").splitlines()
    hosts_b = isula.ok("exec", b, "cat", "/etc/hosts").splitlines()
    assert "192.0.2.9\tpeer" in hosts_b and "127.0.0.1\thost-a" not in hosts_b
    assert "search a.example" in isula.ok("exec", a, "cat", "/etc/resolv.conf").splitlines()
    assert "search a.example" not in isula.ok("exec", b, "cat", "/etc/resolv.conf").splitlines()
    paths = {isula.inspect(c)["HostnamePath"] for c in (a, b)}
    assert len(paths) == 2


def attached_clones(cid):
    """The daemon's clones of a container's binds still attached under its state dir (<state>/idmap/...)."""
    with open("/proc/mounts") as f:
        return [ln for ln in f if "/idmap/" in ln.split()[1] and cid in ln.split()[1]]


def test_recursive_read_only_bind(isula, container, hostdir):
    """`ro` leaves the submounts of the source writable (runc remounts only the top, as Docker before API 1.44);
    `rro` (-v) and bind-recursive=readonly (--mount: BindOptions.ReadOnlyForceRecursive) make them read-only too,
    bind-recursive=writable is the plain one."""
    src = os.path.join(hostdir, "v")
    os.makedirs(os.path.join(src, "sub"))
    subprocess.run(["mount", "-t", "tmpfs", "isd-rro", os.path.join(src, "sub")], check=True)
    write = ["sh", "-c", "echo x > /m/sub/f && echo wrote"]

    assert isula.ok("run", "--rm", "-v", src + ":/m:ro", "busybox", *write) == "wrote"
    assert isula.ok("run", "--rm", "--mount", "type=bind,src=%s,dst=/m,readonly,bind-recursive=writable" % src,
                    "busybox", *write) == "wrote"
    os.unlink(os.path.join(src, "sub", "f"))
    # bind-recursive=disabled (BindOptions.NonRecursive): the submount is not bound, its mount point is the bare dir
    assert isula.ok("run", "--rm", "--mount", "type=bind,src=%s,dst=/m,bind-recursive=disabled" % src, "busybox",
                    "sh", "-c", "echo x > /m/sub/under && grep -c ' /m/sub ' /proc/mounts; ls /m/sub") == "0\nunder"
    subprocess.run(["umount", os.path.join(src, "sub")], check=True)
    assert os.listdir(os.path.join(src, "sub")) == ["under"]
    os.unlink(os.path.join(src, "sub", "under"))
    subprocess.run(["mount", "-t", "tmpfs", "isd-rro", os.path.join(src, "sub")], check=True)
    for how in (["-v", src + ":/m:rro"], ["-v", src + ":/m:ro,rro"],
                ["--mount", "type=bind,src=%s,dst=/m,readonly,bind-recursive=readonly" % src]):
        r = isula("run", "--rm", *how, "busybox", *write)
        assert r.returncode != 0 and "Read-only file system" in r.stderr, (how, r.stderr)
        r = isula("run", "--rm", *how, "busybox", "touch", "/m/top")
        assert r.returncode != 0 and "Read-only file system" in r.stderr, (how, r.stderr)
    assert os.listdir(os.path.join(src, "sub")) == [] and os.listdir(src) == ["sub"]

    # the daemon's clone is detached once the container holds its mounts; what the container sees stays read-only
    cid = container("run", "-d", "-v", src + ":/m:rro", "busybox", "sleep", "600")
    assert attached_clones(cid) == []
    r = isula("exec", cid, "sh", "-c", "echo x > /m/sub/f")
    assert r.returncode != 0 and "Read-only file system" in r.stderr
    assert isula.ok("exec", cid, "cat", "/proc/mounts").count(" ro,") >= 2  # /m and /m/sub
    assert "rro" in isula.inspect(cid)["HostConfig"]["Binds"][0]
    isula.ok("restart", "-t", "0", cid)
    r = isula("exec", cid, "sh", "-c", "echo x > /m/sub/f")
    assert r.returncode != 0 and "Read-only file system" in r.stderr
    assert attached_clones(cid) == []


def test_recursive_read_only_bind_errors(isula, hostdir):
    cases = [
        (["-v", hostdir + ":/m:rw,rro"], "invalid mode: rw,rro"),
        (["-v", hostdir + ":/m:rro,rro"], "invalid mode: rro,rro"),
        (["-v", hostdir + ":/m:rro,rshared"], "needs private propagation, not rshared"),
        (["--mount", "type=bind,src=%s,dst=/m,bind-recursive=readonly" % hostdir],
         "BindOptions.ReadOnlyForceRecursive needs ReadOnly"),
        (["--mount", "type=bind,src=%s,dst=/m,bind-recursive=writable" % hostdir],
         "BindOptions.ReadOnlyNonRecursive needs ReadOnly"),
        (["--mount", "type=bind,src=%s,dst=/m,readonly,bind-recursive=readonly,bind-propagation=rslave" % hostdir],
         "needs private propagation, not rslave"),
        (["--mount", "type=bind,src=%s,dst=/m,readonly,bind-recursive=sometimes" % hostdir],
         "bind-recursive takes enabled, disabled, writable or readonly"),
    ]
    for how, msg in cases:
        r = isula("create", *how, "busybox", "true")
        assert r.returncode != 0 and msg in r.stderr, (how, r.stderr)


def test_recursive_read_only_clone_left_by_a_crash_is_detached(isula, daemon, container, hostdir):
    """A clone still attached under the container's state dir (a daemon killed between the attach and the
    detach) is detached at the next start, and at removal."""
    src = os.path.join(hostdir, "v")
    os.makedirs(src)
    cid = container("create", "-v", src + ":/m:rro", "busybox", "sleep", "600")
    left = os.path.join(daemon.state, "containers", cid, "idmap", "b0")

    def leave():
        os.makedirs(left, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "isd-left", left], check=True)
        assert attached_clones(cid) != []
    leave()
    isula.ok("start", cid)
    assert attached_clones(cid) == [] and not os.path.exists(left)
    isula.ok("stop", "-t", "0", cid)
    leave()
    isula.ok("rm", cid)
    assert attached_clones(cid) == [] and not os.path.exists(os.path.dirname(left))
