"""User namespaces from the CRI (issue 11), as kubelet sends them for `hostUsers: false`: the pod's
NamespaceOption.userns_options (mode POD, one uid and one gid range), the containers' same options, mounts with
uidMappings/gidMappings (id-mapped volumes), and Status's runtime_handlers features. Checked from the host: the
processes' /proc/<pid>/status and namespaces, the files' owners on disk. The module's daemon and client come from
test_cri's fixtures."""
import fcntl
import os
import subprocess

import grpc
import pytest

from registry import busybox_layer, push_image
from test_cri import (  # noqa: F401  (fixtures)
    Cri, PodNet, cni_bin, cni_dir, cri, ctr_config, d, isula, lease_dir, needs_cni, pause_ref, pod_leftovers,
    pod_status, podnet, pods, reg, rpc_error)

HOST_ID = 65536 * 37  # where kubelet puts pods: multiples of 65536 above the host's own ids
SIZE = 65536
NS_GET_USERNS = 0xB701  # linux/nsfs.h: _IO(0xb7, 0x1)


@pytest.fixture(scope="module")
def pause(reg, pause_ref, d):
    # the pod's root is a stranger on the host: it must be able to search down to the graph, as an administrator
    # grants it for /var/lib/isulad (test_users.remap_ready)
    os.chmod(d.base, 0o711)
    push_image(reg.url, "cri-pause", tag="1", layers=[busybox_layer()], cmd=("/bin/sleep", "2147483647"))
    return pause_ref


def userns(cri, mode=None, uids=None, gids=None):
    mode = cri.pb.POD if mode is None else mode
    if uids is None:
        uids = [(HOST_ID, 0, SIZE)] if mode == cri.pb.POD else []
    if gids is None:
        gids = uids
    m = [cri.pb.IDMapping(host_id=h, container_id=c, length=n) for h, c, n in uids]
    g = [cri.pb.IDMapping(host_id=h, container_id=c, length=n) for h, c, n in gids]
    return cri.pb.UserNamespace(mode=mode, uids=m, gids=g)


def pod_linux(cri, us, **ns):
    return cri.pb.LinuxPodSandboxConfig(security_context=cri.pb.LinuxSandboxSecurityContext(
        namespace_options=cri.pb.NamespaceOption(userns_options=us, **ns)))


def ctr_linux(cri, us, **ns):
    return cri.pb.LinuxContainerConfig(security_context=cri.pb.LinuxContainerSecurityContext(
        namespace_options=cri.pb.NamespaceOption(userns_options=us, **ns)))


def mapped_mount(cri, host_path, container_path, readonly=False):
    m = [cri.pb.IDMapping(host_id=HOST_ID, container_id=0, length=SIZE)]
    return cri.pb.Mount(host_path=host_path, container_path=container_path, readonly=readonly, uidMappings=m,
                        gidMappings=m)


def start_ctr(cri, pod, cfg):
    cid = cri.rt.CreateContainer(cri.pb.CreateContainerRequest(pod_sandbox_id=pod, config=cfg),
                                 timeout=60).container_id
    cri.rt.StartContainer(cri.pb.StartContainerRequest(container_id=cid), timeout=60)
    return cid


def status_ids(pid, name):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith(name + ":"):
                return [int(x) for x in ln.split(":", 1)[1].split()]
    raise AssertionError(name)


def ns_inode(pid, ns):
    return os.stat("/proc/%d/ns/%s" % (pid, ns)).st_ino


def net_owner_inode(pid):
    """The inode of the user namespace that owns the process's network namespace (NS_GET_USERNS)."""
    fd = os.open("/proc/%d/ns/net" % pid, os.O_RDONLY)
    try:
        owner = fcntl.ioctl(fd, NS_GET_USERNS)
        try:
            return os.fstat(owner).st_ino
        finally:
            os.close(owner)
    finally:
        os.close(fd)


def sandbox_names(isula, name):
    out = isula.ok("ps", "-a", "--format", "{{.Names}}")
    return [n for n in out.split() if n.startswith("k8s_POD_%s_" % name)]


def test_status_reports_user_namespaces_per_handler(cri, d):
    st = cri.rt.Status(cri.pb.StatusRequest(), timeout=30)
    handlers = {h.name: h.features for h in st.runtime_handlers}
    assert "" in handlers and "runc" in handlers, handlers  # the default handler and the configured runtime
    # this host's kernel (>= 5.19) and the graph root's filesystem take id-mapped mounts
    assert all(f.user_namespaces for f in handlers.values())
    assert all(f.recursive_read_only_mounts for f in handlers.values())  # mount_setattr (Linux 5.12)
    alpha = Cri(d.cri_sock, "runtime.v1alpha2")
    try:
        st2 = alpha.rt.Status(alpha.pb.StatusRequest(), timeout=30)
        assert {h.name for h in st2.runtime_handlers} == set(handlers)
    finally:
        alpha.close()


@needs_cni
def test_pod_in_its_own_user_namespace(cri, d, isula, podnet, pods, pause, tmp_path):
    vol = tmp_path / "vol"
    vol.mkdir()
    os.chmod(str(tmp_path), 0o755)
    (vol / "by-root").write_text("root's\n")
    (vol / "by-1000").write_text("user 1000's\n")
    os.chown(str(vol / "by-1000"), 1000, 1000)
    single = tmp_path / "hosts"
    single.write_text("127.0.0.1 localhost\n")

    pid = pods("userns", linux=pod_linux(cri, userns(cri)))
    st = pod_status(cri, pid)
    assert st.state == cri.pb.SANDBOX_READY
    us = st.linux.namespaces.options.userns_options
    assert us.mode == cri.pb.POD
    assert [(m.host_id, m.container_id, m.length) for m in us.uids] == [(HOST_ID, 0, SIZE)]
    assert [(m.host_id, m.container_id, m.length) for m in us.gids] == [(HOST_ID, 0, SIZE)]
    spid = isula.inspect(pid)["State"]["Pid"]
    assert status_ids(spid, "Uid")[0] == HOST_ID  # the pause process runs as the pod's root, a stranger on the host

    mounts = [mapped_mount(cri, str(vol), "/vol"), mapped_mount(cri, str(single), "/etc/kube-hosts", readonly=True)]
    a = start_ctr(cri, pid, ctr_config(cri, "a", ["sleep", "1000"], linux=ctr_linux(cri, userns(cri)), mounts=mounts))
    b = start_ctr(cri, pid, ctr_config(cri, "b", ["sleep", "1000"], linux=ctr_linux(cri, userns(cri))))
    apid, bpid = isula.inspect(a)["State"]["Pid"], isula.inspect(b)["State"]["Pid"]

    # inside: root of a user namespace holding exactly the pod's mapping
    out = isula.ok("exec", a, "sh", "-c", "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map").split()
    assert out == ["0", "0", "0", str(HOST_ID), str(SIZE), "0", str(HOST_ID), str(SIZE)]
    r = cri.rt.ExecSync(cri.pb.ExecSyncRequest(container_id=b, cmd=["sh", "-c", "id -u; cat /proc/self/uid_map"],
                                               timeout=30), timeout=60)
    assert r.exit_code == 0 and r.stdout.decode().split() == ["0", "0", str(HOST_ID), str(SIZE)]
    # on the host: the mapped ids
    assert status_ids(apid, "Uid") == [HOST_ID] * 4 and status_ids(apid, "Gid") == [HOST_ID] * 4
    # one user namespace for the pause process and every container, and it owns the pod's network namespace
    assert ns_inode(apid, "user") == ns_inode(bpid, "user") == ns_inode(spid, "user")
    assert ns_inode(apid, "user") != ns_inode(os.getpid(), "user")
    assert ns_inode(apid, "net") == ns_inode(spid, "net")
    assert net_owner_inode(spid) == ns_inode(spid, "user")

    # the image's files are root's inside; what the container writes is the mapped root's on disk
    assert isula.ok("exec", a, "stat", "-c", "%u:%g", "/bin/busybox") == "0:0"
    isula.ok("exec", a, "sh", "-c", "echo hi > /written")
    on_host = os.stat("/proc/%d/root/written" % apid)
    assert (on_host.st_uid, on_host.st_gid) == (HOST_ID, HOST_ID)

    # the id-mapped volume: the host's owners as they are on disk, inside; the container's writes are root's on disk
    inside = isula.ok("exec", a, "stat", "-c", "%n %u:%g", "/vol/by-root", "/vol/by-1000", "/etc/kube-hosts")
    assert inside.splitlines() == ["/vol/by-root 0:0", "/vol/by-1000 1000:1000", "/etc/kube-hosts 0:0"]
    isula.ok("exec", a, "sh", "-c", "echo from the pod > /vol/new")
    st_new = os.stat(str(vol / "new"))
    assert (st_new.st_uid, st_new.st_gid) == (0, 0) and (vol / "new").read_text() == "from the pod\n"
    r = isula("exec", a, "sh", "-c", "echo x >> /etc/kube-hosts")
    assert r.returncode != 0  # readonly kept
    # the daemon's id-mapped clones were detached once the container held its mounts
    assert [ln for ln in open("/proc/mounts") if "/idmap/" in ln and a in ln] == []

    # without the idmap, the same volume is the host's: root's files belong to nobody inside
    c = start_ctr(cri, pid, ctr_config(cri, "c", ["sleep", "1000"], linux=ctr_linux(cri, userns(cri)),
                                       mounts=[cri.pb.Mount(host_path=str(vol), container_path="/plain")]))
    assert isula.ok("exec", c, "stat", "-c", "%u", "/plain/by-root") == "65534"

    # the pod's network works: its address answers from the host, through the bridge of the test's CNI network
    ip = st.network.ip
    subprocess.run(["/bin/busybox", "ping", "-c", "2", "-W", "2", ip], capture_output=True, check=True)
    assert ip in isula.ok("exec", b, "ip", "-4", "addr", "show", "eth0")

    ids = [a, b, c]
    cri.rt.StopPodSandbox(cri.pb.StopPodSandboxRequest(pod_sandbox_id=pid), timeout=120)
    cri.rt.RemovePodSandbox(cri.pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=120)
    assert pod_leftovers(d, podnet, pid) == []
    assert not os.path.exists(os.path.join(d.state, "netns-userns", pid))
    for cid in ids:
        assert isula("inspect", cid).returncode != 0
        assert [ln for ln in open("/proc/mounts") if cid in ln] == []
    assert sorted(os.listdir(str(vol))) == ["by-1000", "by-root", "new"]


@needs_cni
def test_id_mapped_recursive_read_only_mount(cri, isula, podnet, pods, pause, tmp_path):
    """An id-mapped volume with recursive_read_only: one clone of the tree, id-mapped and read-only with every mount
    below it (mount_setattr sets both)."""
    vol = tmp_path / "vol"
    (vol / "sub").mkdir(parents=True)
    os.chmod(str(tmp_path), 0o755)
    subprocess.run(["mount", "-t", "tmpfs", "cri-rro-idmap", str(vol / "sub")], check=True)
    try:
        (vol / "sub" / "by-root").write_text("root's\n")
        pid = pods("userns-rro", linux=pod_linux(cri, userns(cri)))
        m = mapped_mount(cri, str(vol), "/vol", readonly=True)
        m.recursive_read_only = True
        a = start_ctr(cri, pid, ctr_config(cri, "a", ["sleep", "1000"], linux=ctr_linux(cri, userns(cri)),
                                           mounts=[m]))
        assert isula.ok("exec", a, "stat", "-c", "%u:%g", "/vol/sub/by-root") == "0:0"  # id-mapped
        for path in ("/vol/top", "/vol/sub/f"):
            r = isula("exec", a, "sh", "-c", "echo x > " + path)
            assert r.returncode != 0 and "Read-only file system" in r.stderr, (path, r.stderr)
        assert sorted(os.listdir(str(vol / "sub"))) == ["by-root"]
        with open("/proc/mounts") as f:
            assert [ln for ln in f if "/idmap/" in ln and a in ln] == []
    finally:
        subprocess.run(["umount", "-l", str(vol / "sub")], capture_output=True)


@needs_cni
def test_bad_user_namespaces_are_refused_and_leave_nothing(cri, isula, podnet, pods, pause):
    pb = cri.pb
    cases = [
        (userns(cri, uids=[]), "uids is empty"),
        (userns(cri, gids=[]), "gids is empty"),
        (userns(cri, uids=[(HOST_ID, 0, 0)]), "uids[0] has length 0"),
        (userns(cri, uids=[(HOST_ID, 0, SIZE), (HOST_ID + 100, 100, 10)]), "uids[0] and uids[1] overlap"),
        (userns(cri, uids=[(HOST_ID, 0, 10), (HOST_ID + 10, 10, 10)]), "exactly one uid and one gid range"),
        (userns(cri, uids=[(HOST_ID, 1, SIZE)]), "isulad maps ranges from container id 0"),
        (userns(cri, uids=[(0, 0, SIZE)]), "onto the host's root (host_id 0)"),
        (userns(cri, uids=[(4294967295 - 10, 0, SIZE)]), "goes past id 4294967294"),
        (userns(cri, uids=[(4294967295 - SIZE + 1, 0, SIZE)]), "goes past id 4294967294"),  # its last id: (uid_t)-1
        (userns(cri, uids=[(HOST_ID, 0, SIZE)], gids=[(HOST_ID, 0, SIZE * 2)]), "the uid range (length 65536) and "
         "the gid range (length 131072) differ"),
        (userns(cri, mode=pb.CONTAINER), "user namespace mode CONTAINER is not supported"),
        (userns(cri, mode=pb.TARGET), "user namespace mode TARGET is not supported"),
        (userns(cri, mode=pb.NODE, uids=[(HOST_ID, 0, SIZE)]), "mode NODE takes no uid or gid mappings"),
    ]
    for us, msg in cases:
        e = rpc_error(cri.rt.RunPodSandbox, pb.RunPodSandboxRequest(config=pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name="bad-userns", namespace="it", uid="u-bad"),
            linux=pod_linux(cri, us))))
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, (msg, e.details())
        assert msg in e.details() and e.details().startswith("RunPodSandbox: "), (msg, e.details())
    # refused by the engine's rules: the node's network, a privileged pod
    for linux, msg in [
            (pod_linux(cri, userns(cri), network=pb.NODE), "cannot share the host's network namespace"),
            (pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(
                privileged=True, namespace_options=pb.NamespaceOption(userns_options=userns(cri)))),
             "privileged mode is incompatible with the pod's user namespace")]:
        e = rpc_error(cri.rt.RunPodSandbox, pb.RunPodSandboxRequest(config=pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name="bad-userns", namespace="it", uid="u-bad"), linux=linux)))
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and msg in e.details(), e.details()
    assert sandbox_names(isula, "bad-userns") == []

    # containers: their user namespace is their pod's
    plain = pods("plain-pod")
    own = pods("own-pod", linux=pod_linux(cri, userns(cri)))
    other = userns(cri, uids=[(HOST_ID + SIZE, 0, SIZE)])
    for pod, cfg, msg in [
            (own, ctr_config(cri, "x", ["true"], linux=ctr_linux(cri, other)),
             "is not its pod's (%d:%d:%d)" % (HOST_ID, HOST_ID, SIZE)),
            (own, ctr_config(cri, "x", ["true"], linux=ctr_linux(cri, userns(cri, mode=pb.NODE))),
             "asks for the node's user namespace but its pod has one of its own"),
            (plain, ctr_config(cri, "x", ["true"], linux=ctr_linux(cri, userns(cri))),
             "but its pod has none"),
            (own, ctr_config(cri, "x", ["true"], linux=ctr_linux(cri, userns(cri, mode=pb.TARGET))),
             "user namespace mode TARGET is not supported"),
            (plain, ctr_config(cri, "x", ["true"], mounts=[mapped_mount(cri, "/tmp", "/m")]),
             "an id-mapped mount needs the container in its pod's user namespace"),
            (own, ctr_config(cri, "x", ["true"], linux=ctr_linux(cri, userns(cri)), mounts=[pb.Mount(
                host_path="/tmp", container_path="/m",
                uidMappings=[pb.IDMapping(host_id=HOST_ID + SIZE, container_id=0, length=SIZE)],
                gidMappings=[pb.IDMapping(host_id=HOST_ID + SIZE, container_id=0, length=SIZE)])]),
             "is not the pod's user namespace mapping")]:
        e = rpc_error(cri.rt.CreateContainer, pb.CreateContainerRequest(pod_sandbox_id=pod, config=cfg))
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and msg in e.details(), (msg, e.details())
    out = isula.ok("ps", "-a", "--format", "{{.Names}}")
    assert [n for n in out.split() if n.startswith("k8s_x_")] == []
    for p in (plain, own):  # both pods still run
        assert pod_status(cri, p).state == pb.SANDBOX_READY


@needs_cni
def test_failed_start_of_a_user_namespaced_pod_leaves_nothing(cri, d, isula, podnet, pause):
    """A pod whose start fails after its namespaces were made: the runtime, as the pod's root, cannot search the
    daemon's directory (the administrator did not grant it, test_users.remap_ready)."""
    def state():
        ls = lambda p: sorted(os.listdir(p)) if os.path.isdir(p) else []  # noqa: E731
        brif = "/sys/class/net/%s/brif" % podnet.bridge
        leases = [f for f in ls(lease_dir(podnet.cni_dir, podnet.name)) if f[0].isdigit()]
        return (ls(os.path.join(d.state, "netns")), ls(os.path.join(d.state, "netns-userns")), ls(brif), leases,
                len([ln for ln in open("/proc/mounts") if d.base in ln]))

    before = state()
    os.chmod(d.base, 0o700)
    try:
        e = rpc_error(cri.rt.RunPodSandbox, cri.pb.RunPodSandboxRequest(config=cri.pb.PodSandboxConfig(
            metadata=cri.pb.PodSandboxMetadata(name="fails", namespace="it", uid="u-fails"),
            linux=pod_linux(cri, userns(cri)))))
    finally:
        os.chmod(d.base, 0o711)
    assert "permission denied" in e.details(), e.details()
    assert sandbox_names(isula, "fails") == []
    assert state() == before


def test_bind_idmap_option_of_isula(d, isula, tmp_path):
    """The bind option the CRI's id-mapped mounts use, `idmap`, is isula's too: with --user-remap the volume's files
    keep their on-disk owners inside; without a user namespace it is refused."""
    os.chmod(d.base, 0o711)
    os.chmod(str(tmp_path), 0o755)
    (tmp_path / "f").write_text("x")
    os.chown(str(tmp_path / "f"), 1000, 1000)
    out = isula.ok("run", "--rm", "--user-remap", "300000:300000:65535", "-v", "%s:/m:idmap" % tmp_path, "busybox",
                   "stat", "-c", "%u:%g", "/m/f", "/m")
    assert out.split() == ["1000:1000", "0:0"]
    out = isula.ok("run", "--rm", "--user-remap", "300000:300000:65535", "-v", "%s:/m" % tmp_path, "busybox",
                   "stat", "-c", "%u:%g", "/m/f")
    assert out == "65534:65534"
    r = isula("create", "-v", "%s:/m:idmap" % tmp_path, "busybox", "true")
    assert r.returncode == 125 and "an id-mapped mount (idmap) needs the container in a user namespace" in r.stderr
