"""More of the CRI (issue 11): pod sandbox stats, verbose status info, the pod and container security contexts
(checked in the processes' /proc/<pid>/status and mounts), extra pod networks from the
`network.alpha.kubernetes.io/network` annotation. The module's daemon and client come from test_cri's fixtures."""
import json
import ipaddress
import os
import subprocess
import uuid

import grpc
import pytest

from registry import busybox_layer, push_image
from test_cri import (  # noqa: F401  (fixtures)
    Cri, PodNet, cni_bin, cni_dir, cri, ctr_config, d, isula, lease_dir, needs_cni, pause_ref, pod_leftovers,
    pod_status, podnet, pods, reg, rpc_error)


@pytest.fixture(scope="module")
def pause(reg, pause_ref):
    push_image(reg.url, "cri-pause", tag="1", layers=[busybox_layer()], cmd=("/bin/sleep", "2147483647"))
    return pause_ref


def status_of_pid(pid, name):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith(name + ":"):
                return ln.split(":", 1)[1].split()
    raise AssertionError(name)


def start_ctr(cri, pod, cfg):
    cid = cri.rt.CreateContainer(cri.pb.CreateContainerRequest(pod_sandbox_id=pod, config=cfg),
                                 timeout=60).container_id
    cri.rt.StartContainer(cri.pb.StartContainerRequest(container_id=cid), timeout=60)
    return cid


def ctr_pid(isula, cid):
    return isula.inspect(cid)["State"]["Pid"]


def mountinfo(pid):
    """{mount point: options} of the process's mount namespace."""
    out = {}
    with open("/proc/%d/mountinfo" % pid) as f:
        for ln in f:
            parts = ln.split()
            out[parts[4]] = parts[5]
    return out


# ---- pod sandbox stats ----

@needs_cni
def test_pod_sandbox_stats(cri, isula, podnet, pods, pause):
    pid = pods("stats", labels={"app": "stats", "suite": "more"}, annotations={"k": "v"})
    other = pods("stats-other", labels={"app": "other", "suite": "more"})
    cid = start_ctr(cri, pid, ctr_config(cri, "worker", ["sh", "-c", "sleep 1000 & sleep 1000"]))
    ip = pod_status(cri, pid).network.ip
    subprocess.run(["/bin/busybox", "ping", "-c", "3", "-W", "2", ip], capture_output=True, check=True)

    st = cri.rt.PodSandboxStats(cri.pb.PodSandboxStatsRequest(pod_sandbox_id=pid), timeout=60).stats
    assert st.attributes.id == pid and st.attributes.metadata.name == "stats"
    assert dict(st.attributes.labels) == {"app": "stats", "suite": "more"}
    assert dict(st.attributes.annotations) == {"k": "v"}
    lx = st.linux
    assert lx.cpu.timestamp > 0 and lx.cpu.usage_core_nano_seconds.value > 0
    assert lx.memory.working_set_bytes.value > 0 and lx.memory.usage_bytes.value > 0
    assert lx.process.process_count.value >= 3  # pause and two sleeps (sh execs the last one)
    assert lx.network.default_interface.name == "eth0"
    assert lx.network.default_interface.rx_bytes.value >= 3 * 84  # the pings came in on eth0
    assert lx.network.default_interface.tx_bytes.value >= 3 * 84
    assert "lo" not in [i.name for i in lx.network.interfaces]
    assert [c.attributes.id for c in lx.containers] == [cid]
    worker = lx.containers[0]
    assert worker.attributes.metadata.name == "worker" and worker.cpu.usage_core_nano_seconds.value > 0
    assert lx.memory.working_set_bytes.value >= worker.memory.working_set_bytes.value

    def listed(**f):
        req = cri.pb.ListPodSandboxStatsRequest(filter=cri.pb.PodSandboxStatsFilter(**f)) if f else \
            cri.pb.ListPodSandboxStatsRequest()
        return {s.attributes.id for s in cri.rt.ListPodSandboxStats(req, timeout=60).stats}

    assert {pid, other} <= listed()
    assert listed(label_selector={"suite": "more"}) == {pid, other}
    assert listed(label_selector={"app": "stats"}) == {pid}
    assert listed(id=other[:12]) == {other}
    cri.rt.StopPodSandbox(cri.pb.StopPodSandboxRequest(pod_sandbox_id=other), timeout=120)
    assert listed(label_selector={"suite": "more"}) == {pid}  # only ready pods have stats
    e = rpc_error(cri.rt.PodSandboxStats, cri.pb.PodSandboxStatsRequest(pod_sandbox_id=other))
    assert e.code() == grpc.StatusCode.NOT_FOUND
    e = rpc_error(cri.rt.PodSandboxStats, cri.pb.PodSandboxStatsRequest(pod_sandbox_id="no-such-pod"))
    assert e.code() == grpc.StatusCode.NOT_FOUND
    e = rpc_error(cri.rt.PodSandboxStats, cri.pb.PodSandboxStatsRequest(pod_sandbox_id=cid))
    assert e.code() == grpc.StatusCode.NOT_FOUND  # a container is not a pod


# ---- security contexts ----

SECCOMP_NO_MKDIR = {"defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}


@needs_cni
def test_pod_security_context(cri, isula, podnet, pods, pause):
    sc = cri.pb.LinuxSandboxSecurityContext(
        run_as_user=cri.pb.Int64Value(value=1234), run_as_group=cri.pb.Int64Value(value=5678),
        supplemental_groups=[777, 778], readonly_rootfs=True,
        seccomp=cri.pb.SecurityProfile(profile_type=cri.pb.SecurityProfile.RuntimeDefault),
        namespace_options=cri.pb.NamespaceOption(network=cri.pb.POD, pid=cri.pb.CONTAINER, ipc=cri.pb.POD))
    pid = pods("podsec", linux=cri.pb.LinuxPodSandboxConfig(security_context=sc))
    spid = ctr_pid(isula, pid)
    assert status_of_pid(spid, "Uid")[0] == "1234" and status_of_pid(spid, "Gid")[0] == "5678"
    assert {"777", "778"} <= set(status_of_pid(spid, "Groups"))
    assert status_of_pid(spid, "Seccomp") == ["2"]
    assert "ro" in mountinfo(spid)["/"].split(",")
    unconf = cri.pb.LinuxSandboxSecurityContext(
        seccomp=cri.pb.SecurityProfile(profile_type=cri.pb.SecurityProfile.Unconfined))
    pid2 = pods("podsec-unconfined", linux=cri.pb.LinuxPodSandboxConfig(security_context=unconf))
    assert status_of_pid(ctr_pid(isula, pid2), "Seccomp") == ["0"]
    old = cri.pb.LinuxSandboxSecurityContext(seccomp_profile_path="runtime/default")
    pid3 = pods("podsec-old", linux=cri.pb.LinuxPodSandboxConfig(security_context=old))
    assert status_of_pid(ctr_pid(isula, pid3), "Seccomp") == ["2"]
    bad = cri.pb.LinuxSandboxSecurityContext(run_as_group=cri.pb.Int64Value(value=5))
    meta = cri.pb.PodSandboxMetadata(name="podsec-bad", namespace="it", uid=uuid.uuid4().hex)
    e = rpc_error(cri.rt.RunPodSandbox, cri.pb.RunPodSandboxRequest(config=cri.pb.PodSandboxConfig(
        metadata=meta, linux=cri.pb.LinuxPodSandboxConfig(security_context=bad))))
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "run_as_group" in e.details()
    assert "k8s_POD_podsec-bad" not in isula.ok("ps", "-a")


def sec_ctr(cri, name, args=("sleep", "1000"), **sc):
    return ctr_config(cri, name, list(args), linux=cri.pb.LinuxContainerConfig(
        security_context=cri.pb.LinuxContainerSecurityContext(**sc)))


@needs_cni
def test_container_seccomp_profiles(cri, isula, podnet, pods, pause, tmp_path):
    pid = pods("seccomp")
    prof = tmp_path / "no-mkdir.json"
    prof.write_text(json.dumps(SECCOMP_NO_MKDIR))
    SP = cri.pb.SecurityProfile
    cases = {
        "default": (dict(seccomp=SP(profile_type=SP.RuntimeDefault)), "2"),
        "unconfined": (dict(seccomp=SP(profile_type=SP.Unconfined)), "0"),
        "local": (dict(seccomp=SP(profile_type=SP.Localhost, localhost_ref=str(prof))), "2"),
        "old-default": (dict(seccomp_profile_path="runtime/default"), "2"),
        "old-local": (dict(seccomp_profile_path="localhost/" + str(prof)), "2"),
        "old-empty": (dict(), "0"),  # the CRI: no profile named means unconfined
    }
    ids = {}
    for name, (sc, want) in cases.items():
        ids[name] = start_ctr(cri, pid, sec_ctr(cri, name, **sc))
        assert status_of_pid(ctr_pid(isula, ids[name]), "Seccomp") == [want], name
    for name in ("local", "old-local"):
        r = cri.rt.ExecSync(cri.pb.ExecSyncRequest(container_id=ids[name], cmd=["mkdir", "/tmp/x"]), timeout=60)
        assert r.exit_code != 0 and b"not permitted" in r.stderr, name
    r = cri.rt.ExecSync(cri.pb.ExecSyncRequest(container_id=ids["default"], cmd=["mkdir", "/tmp/x"]), timeout=60)
    assert r.exit_code == 0
    for sc, word in ((dict(seccomp=SP(profile_type=SP.Localhost, localhost_ref="relative.json")), "absolute"),
                     (dict(seccomp_profile_path="bogus/x"), "bogus/x"),
                     (dict(seccomp=SP(profile_type=SP.Localhost, localhost_ref=str(tmp_path / "none.json"))),
                      "none.json")):
        e = rpc_error(cri.rt.CreateContainer, cri.pb.CreateContainerRequest(
            pod_sandbox_id=pid, config=sec_ctr(cri, "bad-" + uuid.uuid4().hex[:6], **sc)))
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and word in e.details(), e.details()


@needs_cni
def test_container_capabilities_paths_and_groups(cri, isula, podnet, pods, pause):
    pid = pods("caps")
    # kubelet's restricted profile: drop ALL, add one back
    cid = start_ctr(cri, pid, sec_ctr(cri, "restricted", no_new_privs=True, supplemental_groups=[4242],
                                      capabilities=cri.pb.Capability(drop_capabilities=["ALL"],
                                                                     add_capabilities=["NET_BIND_SERVICE"])))
    cp = ctr_pid(isula, cid)
    assert int(status_of_pid(cp, "CapEff")[0], 16) == 1 << 10
    assert int(status_of_pid(cp, "CapBnd")[0], 16) == 1 << 10
    assert status_of_pid(cp, "NoNewPrivs") == ["1"]
    assert "4242" in status_of_pid(cp, "Groups")
    # the groups are kept in an exec too
    r = cri.rt.ExecSync(cri.pb.ExecSyncRequest(container_id=cid, cmd=["cat", "/proc/self/status"]), timeout=60)
    groups = [ln for ln in r.stdout.decode().splitlines() if ln.startswith("Groups:")][0]
    assert "4242" in groups.split()
    nnp = [ln for ln in r.stdout.decode().splitlines() if ln.startswith("NoNewPrivs:")][0]
    assert nnp.split()[1] == "1"

    # add ALL: every capability of the daemon's own bounding set
    every = int(status_of_pid(os.getpid(), "CapBnd")[0], 16)
    cid_all = start_ctr(cri, pid, sec_ctr(cri, "all", capabilities=cri.pb.Capability(add_capabilities=["ALL"])))
    assert int(status_of_pid(ctr_pid(isula, cid_all), "CapEff")[0], 16) == every

    # the masked and read-only paths kubelet sends replace the defaults
    cid2 = start_ctr(cri, pid, sec_ctr(cri, "paths", masked_paths=["/proc/version"],
                                       readonly_paths=["/proc/sys", "/proc/bus"]))
    mi = mountinfo(ctr_pid(isula, cid2))
    assert "/proc/version" in mi and "/proc/keys" not in mi
    assert mi["/proc/sys"].split(",")[0] == "ro"
    out = cri.rt.ExecSync(cri.pb.ExecSyncRequest(container_id=cid2, cmd=["cat", "/proc/version"]), timeout=60)
    assert out.stdout == b""
    # without lists: the engine's defaults
    cid3 = start_ctr(cri, pid, sec_ctr(cri, "defaults"))
    mi = mountinfo(ctr_pid(isula, cid3))
    assert "/proc/keys" in mi and "/proc/version" not in mi
    # privileged, with the empty lists kubelet sends: nothing masked, every capability
    cid4 = start_ctr(cri, pid, sec_ctr(cri, "priv", privileged=True))
    p4 = ctr_pid(isula, cid4)
    mi = mountinfo(p4)
    assert "/proc/keys" not in mi and "/proc/version" not in mi
    assert status_of_pid(p4, "Seccomp") == ["0"]
    assert int(status_of_pid(p4, "CapEff")[0], 16) == int(status_of_pid(os.getpid(), "CapBnd")[0], 16)


@needs_cni
def test_selinux_and_apparmor_options(cri, d, isula, podnet, pods, pause):
    pid = pods("lsm")
    sel = cri.pb.SELinuxOption(user="system_u", role="system_r", type="container_t", level="s0:c1,c2")
    cid = start_ctr(cri, pid, sec_ctr(cri, "selinux", selinux_options=sel))
    assert ctr_status_state(cri, cid) == cri.pb.CONTAINER_RUNNING
    if not os.path.exists("/sys/fs/selinux/enforce"):
        assert "selinux is disabled" in d.read_log() and "container_t" in d.read_log()
    SP = cri.pb.SecurityProfile
    cid2 = start_ctr(cri, pid, sec_ctr(cri, "aa-unconfined", apparmor=SP(profile_type=SP.Unconfined)))
    assert ctr_status_state(cri, cid2) == cri.pb.CONTAINER_RUNNING
    if os.path.exists("/sys/module/apparmor/parameters/enabled"):
        return
    for sc in (dict(apparmor=SP(profile_type=SP.Localhost, localhost_ref="my-profile")),
               dict(apparmor=SP(profile_type=SP.RuntimeDefault)), dict(apparmor_profile="localhost/my-profile")):
        e = rpc_error(cri.rt.CreateContainer, cri.pb.CreateContainerRequest(
            pod_sandbox_id=pid, config=sec_ctr(cri, "aa-" + uuid.uuid4().hex[:6], **sc)))
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "AppArmor is not enabled" in e.details()


def ctr_status_state(cri, cid):
    return cri.rt.ContainerStatus(cri.pb.ContainerStatusRequest(container_id=cid), timeout=30).status.state


# ---- verbose status info ----

@needs_cni
def test_verbose_status_info(cri, d, isula, podnet, pods, pause):
    pid = pods("verbose", hostname="pod-verbose", labels={"app": "v"})
    st = cri.rt.PodSandboxStatus(cri.pb.PodSandboxStatusRequest(pod_sandbox_id=pid), timeout=30)
    assert dict(st.info) == {}  # only when verbose
    st = cri.rt.PodSandboxStatus(cri.pb.PodSandboxStatusRequest(pod_sandbox_id=pid, verbose=True), timeout=30)
    info = json.loads(st.info["info"])
    assert info["pid"] == isula.inspect(pid)["State"]["Pid"] > 0
    assert info["processStatus"] == "running" and info["image"] == pause
    assert info["config"]["metadata"]["name"] == "verbose" and info["config"]["hostname"] == "pod-verbose"
    assert info["config"]["labels"] == {"app": "v"}
    assert info["runtimeSpec"]["hostname"] == "pod-verbose"
    assert info["runtimeSpec"]["process"]["args"] == ["/bin/sleep", "2147483647"]
    assert info["netns"] and os.path.exists(info["netns"]) and info["netNamespaceClosed"] is False
    assert st.status.network.ip in json.dumps(info["networks"])

    cfg = ctr_config(cri, "box", ["sleep", "1000"], envs=[cri.pb.KeyValue(key="A", value="1")])
    cid = cri.rt.CreateContainer(cri.pb.CreateContainerRequest(pod_sandbox_id=pid, config=cfg),
                                 timeout=60).container_id
    r = cri.rt.ContainerStatus(cri.pb.ContainerStatusRequest(container_id=cid, verbose=True), timeout=30)
    info = json.loads(r.info["info"])
    assert info["sandboxID"] == pid and info["runtimeSpec"] == {} and info["processStatus"] == "created"
    cri.rt.StartContainer(cri.pb.StartContainerRequest(container_id=cid), timeout=60)
    r = cri.rt.ContainerStatus(cri.pb.ContainerStatusRequest(container_id=cid, verbose=True), timeout=30)
    info = json.loads(r.info["info"])
    assert info["pid"] == isula.inspect(cid)["State"]["Pid"] > 0 and info["removing"] is False
    assert info["config"]["metadata"] == {"name": "box"} and info["config"]["image"] == {"image": "busybox"}
    assert info["config"]["args"] == ["sleep", "1000"] and info["config"]["envs"] == [{"key": "A", "value": "1"}]
    assert info["runtimeSpec"]["process"]["args"] == ["sleep", "1000"] and "A=1" in info["runtimeSpec"]["process"]["env"]
    assert info["runtimeType"] and info["snapshotKey"] == cid
    assert "io.isulad.cri.config" not in r.status.labels
    assert dict(cri.rt.ContainerStatus(cri.pb.ContainerStatusRequest(container_id=cid), timeout=30).info) == {}

    img = cri.im.ImageStatus(cri.pb.ImageStatusRequest(image=cri.pb.ImageSpec(image="busybox"), verbose=True),
                             timeout=30)
    info = json.loads(img.info["info"])
    assert info["id"] == img.image.id and info["imageSpec"]["os"] == "linux"
    assert info["imageSpec"]["rootfs"]["type"] == "layers" and info["imageSpec"]["rootfs"]["diff_ids"]
    assert info["imageSpec"]["config"]["Cmd"] == isula.inspect("busybox")["Config"]["Cmd"]
    img = cri.im.ImageStatus(cri.pb.ImageStatusRequest(image=cri.pb.ImageSpec(image="busybox")), timeout=30)
    assert dict(img.info) == {}


# ---- extra networks from the pod annotation ----

@pytest.fixture
def extranet(cni_dir):
    n = PodNet(cni_dir, "50-extra.conflist", "cri-extra-", "isdx")
    yield n
    n.cleanup()


def pod_addrs(isula, pod, ifname):
    return isula.ok("exec", pod, "/bin/busybox", "ip", "-4", "-o", "addr", "show", ifname)


@needs_cni
def test_extra_networks_from_the_annotation(cri, d, isula, podnet, extranet, pods, pause):
    ann = {"network.alpha.kubernetes.io/network": json.dumps({"name": extranet.name, "interface": "net1"})}
    pid = pods("multi", annotations=ann)
    st = pod_status(cri, pid)
    assert ipaddress.ip_address(st.network.ip) in podnet.subnet
    extra_ips = [p.ip for p in st.network.additional_ips]
    assert len(extra_ips) == 1 and ipaddress.ip_address(extra_ips[0]) in extranet.subnet
    assert dict(st.annotations) == ann
    assert extra_ips[0] in pod_addrs(isula, pid, "net1")
    assert st.network.ip in pod_addrs(isula, pid, "eth0")
    assert os.listdir("/sys/class/net/%s/brif" % extranet.bridge)
    stats = cri.rt.PodSandboxStats(cri.pb.PodSandboxStatsRequest(pod_sandbox_id=pid), timeout=60).stats
    assert stats.linux.network.default_interface.name == "eth0"
    assert [i.name for i in stats.linux.network.interfaces] == ["net1"]
    # a container of the pod sees both
    cid = start_ctr(cri, pid, ctr_config(cri, "c", ["sleep", "1000"]))
    assert extra_ips[0] in isula.ok("exec", cid, "ip", "-4", "-o", "addr", "show", "net1")

    cri.rt.StopPodSandbox(cri.pb.StopPodSandboxRequest(pod_sandbox_id=pid), timeout=120)
    assert not os.listdir("/sys/class/net/%s/brif" % extranet.bridge)
    assert not [f for f in os.listdir(lease_dir(extranet.cni_dir, extranet.name)) if f[0].isdigit()]
    cri.rt.RemovePodSandbox(cri.pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=120)
    assert pod_leftovers(d, podnet, pid) == [] and pod_leftovers(d, extranet, pid) == []

    # iSulad's array form, without an interface name: the next free ethN
    ann = {"network.alpha.kubernetes.io/network": json.dumps([{"name": extranet.name}])}
    pid2 = pods("multi-array", annotations=ann)
    st = pod_status(cri, pid2)
    assert len(st.network.additional_ips) == 1
    assert st.network.additional_ips[0].ip in pod_addrs(isula, pid2, "eth1")


@needs_cni
def test_bad_extra_network_annotation_leaves_nothing(cri, d, isula, podnet, extranet, pause):
    before = set(isula.ok("ps", "-a", "-q", "--no-trunc").split())
    for value, code, word in (("{not json", grpc.StatusCode.INVALID_ARGUMENT, "network.alpha.kubernetes.io/network"),
                              (json.dumps({"interface": "net1"}), grpc.StatusCode.INVALID_ARGUMENT, "name"),
                              (json.dumps({"name": extranet.name, "interface": "x" * 16}),
                               grpc.StatusCode.INVALID_ARGUMENT, "interface"),
                              (json.dumps({"name": "no-such-net"}), grpc.StatusCode.NOT_FOUND, "no-such-net")):
        meta = cri.pb.PodSandboxMetadata(name="badnet", namespace="it", uid=uuid.uuid4().hex)
        cfg = cri.pb.PodSandboxConfig(metadata=meta, annotations={"network.alpha.kubernetes.io/network": value})
        e = rpc_error(cri.rt.RunPodSandbox, cri.pb.RunPodSandboxRequest(config=cfg))
        assert e.code() == code and word in e.details(), (value, e.code(), e.details())
        assert set(isula.ok("ps", "-a", "-q", "--no-trunc").split()) == before
    assert not os.listdir("/sys/class/net/%s/brif" % podnet.bridge)
    ipam = lease_dir(podnet.cni_dir, podnet.name)
    assert not os.path.isdir(ipam) or not [f for f in os.listdir(ipam) if f[0].isdigit()]


# ---- gRPC loaded at the first CRI connection ----

def mapped(pid, name):
    with open("/proc/%d/maps" % pid) as f:
        return name in f.read()


def test_grpc_is_loaded_at_the_first_cri_connection():
    """A daemon without --cri-socket maps neither the CRI library nor libgrpc until a client speaks gRPC on its
    socket; REST traffic does not load them; the first CRI call does, and it is answered."""
    from registry import start_daemon, stop_daemon
    from conftest import Isula
    dm = start_daemon()
    try:
        pid = dm.proc.pid
        assert "isulad" in Isula(dm).ok("version")
        assert not mapped(pid, "libgrpc") and not mapped(pid, "libisulad-cri.so")
        c = Cri(dm.sock)
        try:
            assert c.rt.Version(c.pb.VersionRequest(), timeout=30).runtime_name == "isulad"
        finally:
            c.close()
        assert mapped(pid, "libisulad-cri.so") and mapped(pid, "libgrpc")
        assert "cri: loaded" in dm.read_log()
        assert "isulad" in Isula(dm).ok("version")
    finally:
        stop_daemon(dm)


# ---- devices and mount propagation ----

def devices_cgroup(pid):
    """The cgroup v1 devices controller's directory of the process, or None (cgroup v2: an eBPF program)."""
    with open("/proc/%d/cgroup" % pid) as f:
        for ln in f:
            _, ctrls, path = ln.rstrip("\n").split(":", 2)
            if "devices" in ctrls.split(","):
                return "/sys/fs/cgroup/devices" + path
    return None


@needs_cni
def test_container_devices(cri, isula, podnet, pods, pause):
    pid = pods("devices")
    # /dev/fuse (c 10:229) is not among the engine's default devices: only the rule made here lets it be opened
    dev = cri.pb.Device(host_path="/dev/fuse", container_path="/dev/cri-fuse", permissions="r")
    cid = start_ctr(cri, pid, ctr_config(cri, "dev", ["sleep", "1000"], devices=[dev]))

    def sh(c, cmd):
        return cri.rt.ExecSync(cri.pb.ExecSyncRequest(container_id=c, cmd=["sh", "-c", cmd]), timeout=60)
    r = sh(cid, "ls -l /dev/cri-fuse")
    assert r.exit_code == 0 and r.stdout.startswith(b"c") and b"10, 229" in r.stdout, r.stdout
    # opened for reading: allowed; for writing (`: >` opens and writes nothing): denied by the cgroup rule
    r = sh(cid, "dd if=/dev/cri-fuse count=0")
    assert r.exit_code == 0, r.stderr
    r = sh(cid, ": > /dev/cri-fuse")
    assert r.exit_code != 0 and b"not permitted" in r.stderr, r.stderr
    cg = devices_cgroup(ctr_pid(isula, cid))
    if cg is not None:
        with open(os.path.join(cg, "devices.list")) as f:
            assert "c 10:229 r" in f.read().splitlines()
    # without a container path the host path is used; empty permissions are rwm
    cid2 = start_ctr(cri, pid, ctr_config(cri, "dev2", ["sleep", "1000"],
                                          devices=[cri.pb.Device(host_path="/dev/fuse")]))
    r = sh(cid2, "ls -l /dev/fuse && : > /dev/fuse")
    assert r.exit_code == 0 and b"10, 229" in r.stdout, r.stdout + r.stderr
    cg = devices_cgroup(ctr_pid(isula, cid2))
    if cg is not None:
        with open(os.path.join(cg, "devices.list")) as f:
            assert "c 10:229 rwm" in f.read().splitlines()
    # a container without the device has no node and no rule
    cid3 = start_ctr(cri, pid, ctr_config(cri, "nodev", ["sleep", "1000"]))
    r = sh(cid3, "mknod /tmp/f c 10 229 && : > /tmp/f")
    assert r.exit_code != 0 and b"not permitted" in r.stderr, r.stderr
    # a host path that is no device: INVALID_ARGUMENT, naming it
    e = rpc_error(cri.rt.CreateContainer, cri.pb.CreateContainerRequest(
        pod_sandbox_id=pid, config=ctr_config(cri, "baddev", ["true"],
                                              devices=[cri.pb.Device(host_path="/etc/hostname")])))
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "/etc/hostname" in e.details(), e.details()


def optional_fields(pid, mnt):
    """The optional fields (shared:N, master:N) of a mount point in the process's mountinfo."""
    with open("/proc/%d/mountinfo" % pid) as f:
        for ln in f:
            parts = ln.split()
            if parts[4] == mnt:
                return parts[6:parts.index("-")]
    raise AssertionError(mnt)


@needs_cni
def test_mount_propagation(cri, isula, podnet, pods, pause, tmp_path):
    src = tmp_path / "shared"
    src.mkdir()
    host_mounts = [str(src)]
    subprocess.run(["mount", "--bind", str(src), str(src)], check=True)
    try:
        subprocess.run(["mount", "--make-rshared", str(src)], check=True)
        (src / "late").mkdir()
        (src / "back").mkdir()
        pid = pods("propagation")
        M = cri.pb.Mount

        def ctr(name, prop, privileged=False):
            return start_ctr(cri, pid, ctr_config(
                cri, name, ["sleep", "1000"], mounts=[M(host_path=str(src), container_path="/m", propagation=prop)],
                linux=cri.pb.LinuxContainerConfig(security_context=cri.pb.LinuxContainerSecurityContext(
                    privileged=privileged))))
        private = ctr("private", cri.pb.PROPAGATION_PRIVATE)
        slave = ctr("slave", cri.pb.PROPAGATION_HOST_TO_CONTAINER)
        shared = ctr("shared", cri.pb.PROPAGATION_BIDIRECTIONAL, privileged=True)
        pp, ps, pb_ = (ctr_pid(isula, c) for c in (private, slave, shared))
        assert not any(f.startswith(("shared:", "master:")) for f in optional_fields(pp, "/m"))
        assert any(f.startswith("master:") for f in optional_fields(ps, "/m"))
        assert any(f.startswith("shared:") for f in optional_fields(pb_, "/m"))
        # a mount made on the host after the start: seen by the slave and the shared one, not by the private one
        subprocess.run(["mount", "-t", "tmpfs", "cri-late", str(src / "late")], check=True)
        host_mounts.insert(0, str(src / "late"))
        assert "/m/late" not in mountinfo(pp)
        assert "/m/late" in mountinfo(ps) and "/m/late" in mountinfo(pb_)
        # a mount made in the bidirectional container comes back to the host
        r = cri.rt.ExecSync(cri.pb.ExecSyncRequest(container_id=shared, cmd=["mount", "-t", "tmpfs", "t", "/m/back"]),
                            timeout=60)
        assert r.exit_code == 0, r.stderr
        host_mounts.insert(0, str(src / "back"))
        assert str(src / "back") in mountinfo(os.getpid())
    finally:
        for m in host_mounts:
            subprocess.run(["umount", "-l", m], capture_output=True)


@needs_cni
def test_ambient_capabilities(cri, isula, podnet, pods, pause):
    """add_ambient_capabilities: a non-root process keeps them (CapAmb) across execve, in exec too."""
    pid = pods("ambient")
    bind = 1 << 10  # CAP_NET_BIND_SERVICE
    caps = cri.pb.Capability(drop_capabilities=["ALL"], add_ambient_capabilities=["NET_BIND_SERVICE"])
    cid = start_ctr(cri, pid, sec_ctr(cri, "amb", run_as_user=cri.pb.Int64Value(value=1000), capabilities=caps))
    cp = ctr_pid(isula, cid)
    assert status_of_pid(cp, "Uid")[0] == "1000"
    for field in ("CapAmb", "CapInh", "CapPrm", "CapEff", "CapBnd"):
        assert int(status_of_pid(cp, field)[0], 16) == bind, field
    r = cri.rt.ExecSync(cri.pb.ExecSyncRequest(container_id=cid, cmd=["cat", "/proc/self/status"]), timeout=60)
    st = dict(ln.split(":", 1) for ln in r.stdout.decode().splitlines() if ":" in ln)
    assert int(st["CapAmb"].strip(), 16) == bind and int(st["CapEff"].strip(), 16) == bind
    # without it the same user ends with no effective capability (the kernel clears them at execve)
    caps = cri.pb.Capability(drop_capabilities=["ALL"], add_capabilities=["NET_BIND_SERVICE"])
    cid2 = start_ctr(cri, pid, sec_ctr(cri, "noamb", run_as_user=cri.pb.Int64Value(value=1000), capabilities=caps))
    cp2 = ctr_pid(isula, cid2)
    assert int(status_of_pid(cp2, "CapAmb")[0], 16) == 0 and int(status_of_pid(cp2, "CapEff")[0], 16) == 0
    # an unknown name: INVALID_ARGUMENT naming it
    e = rpc_error(cri.rt.CreateContainer, cri.pb.CreateContainerRequest(
        pod_sandbox_id=pid, config=sec_ctr(cri, "badamb", capabilities=cri.pb.Capability(
            add_ambient_capabilities=["NO_SUCH_CAP"]))))
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "NO_SUCH_CAP" in e.details(), e.details()


@needs_cni
def test_recursive_read_only_mount(cri, isula, podnet, pods, pause, tmp_path):
    """recursive_read_only (kubelet's recursiveReadOnly: Enabled): the mounts below the volume are read-only too,
    where plain readonly leaves them writable; Status offers it (this kernel has mount_setattr)."""
    st = cri.rt.Status(cri.pb.StatusRequest(), timeout=30)
    assert all(h.features.recursive_read_only_mounts for h in st.runtime_handlers), st.runtime_handlers
    src = tmp_path / "vol"
    (src / "sub").mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "cri-rro", str(src / "sub")], check=True)
    try:
        pid = pods("rro")
        M = cri.pb.Mount

        def ctr(name, **m):
            return start_ctr(cri, pid, ctr_config(cri, name, ["sleep", "1000"],
                                                  mounts=[M(host_path=str(src), container_path="/m", **m)]))

        def write(cid, path):
            return cri.rt.ExecSync(cri.pb.ExecSyncRequest(container_id=cid, cmd=["sh", "-c", "echo x > " + path]),
                                   timeout=60)
        rro = ctr("rro", readonly=True, recursive_read_only=True)
        ro = ctr("ro", readonly=True)
        for cid in (rro, ro):
            r = write(cid, "/m/top")
            assert r.exit_code != 0 and b"Read-only file system" in r.stderr, r.stderr
        r = write(rro, "/m/sub/f")
        assert r.exit_code != 0 and b"Read-only file system" in r.stderr, r.stderr
        assert not (src / "sub" / "f").exists()
        r = write(ro, "/m/sub/f")
        assert r.exit_code == 0, r.stderr
        assert (src / "sub" / "f").read_text() == "x\n"
        assert mountinfo(ctr_pid(isula, rro))["/m/sub"].startswith("ro")
        assert mountinfo(ctr_pid(isula, ro))["/m/sub"].startswith("rw")
        # the daemon's recursively read-only clone was detached once the container held its mounts
        with open("/proc/mounts") as f:
            assert [ln for ln in f if "/idmap/" in ln and rro in ln] == []
    finally:
        subprocess.run(["umount", "-l", str(src / "sub")], capture_output=True)


@needs_cni
def test_recursive_read_only_mount_errors(cri, isula, podnet, pods, pause, tmp_path):
    """The CRI's rules: recursive_read_only needs readonly and private propagation, else INVALID_ARGUMENT."""
    pid = pods("rro-bad")
    M = cri.pb.Mount
    cases = [
        (M(host_path=str(tmp_path), container_path="/m", recursive_read_only=True), "needs readonly"),
        (M(host_path=str(tmp_path), container_path="/m", readonly=True, recursive_read_only=True,
           propagation=cri.pb.PROPAGATION_HOST_TO_CONTAINER), "needs propagation PROPAGATION_PRIVATE"),
    ]
    for m, msg in cases:
        e = rpc_error(cri.rt.CreateContainer, cri.pb.CreateContainerRequest(
            pod_sandbox_id=pid, config=ctr_config(cri, "bad", ["true"], mounts=[m])))
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and msg in e.details() and "/m" in e.details(), \
            e.details()
    listed = cri.rt.ListContainers(cri.pb.ListContainersRequest(
        filter=cri.pb.ContainerFilter(pod_sandbox_id=pid)), timeout=30).containers
    assert list(listed) == []
