"""The CRI (Kubernetes Container Runtime Interface, gRPC) of isulad, driven by a Python grpcio client whose stubs
are compiled at test time from api/cri/api.proto with Debian's python3-grpc-tools, once for runtime.v1 and once
for runtime.v1alpha2 (same messages, other package). The daemon of this module serves the CRI on its own socket
(`--cri-socket`) and reads a test CNI conf dir holding a bridge network on a private 10.254.x.0/24 subnet.
"""
import atexit
import importlib
import json
import ipaddress
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import grpc
import pytest

from conftest import ROOT, Isula
from registry import Registry, busybox_layer, free_port, push_image, start_daemon, stop_daemon  # noqa: F401

PROTO = os.path.join(ROOT, "api", "cri", "api.proto")


_STUBS = {}


def compile_proto(package):
    """Stubs of api.proto under `package` (runtime.v1 or runtime.v1alpha2): (messages module, grpc module).
    Compiled once per test process into a temp dir removed at exit."""
    if package in _STUBS:
        return _STUBS[package]
    out = tempfile.mkdtemp(prefix="isd-cri-py-")
    atexit.register(shutil.rmtree, out, True)
    name = "cri_" + package.replace(".", "_")
    with open(PROTO) as f:
        text = f.read().replace("package runtime.v1;", "package %s;" % package)
    with open(os.path.join(out, name + ".proto"), "w") as f:
        f.write(text)
    r = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", out, "--python_out", out,
                        "--grpc_python_out", out, name + ".proto"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    sys.path.insert(0, out)
    try:
        _STUBS[package] = (importlib.import_module(name + "_pb2"), importlib.import_module(name + "_pb2_grpc"))
    finally:
        sys.path.remove(out)
    return _STUBS[package]


class Cri:
    """A CRI client on one package: .rt (RuntimeService), .im (ImageService), .pb (messages)."""

    def __init__(self, sock, package="runtime.v1"):
        self.pb, pbg = compile_proto(package)
        self.channel = grpc.insecure_channel("unix://" + sock)
        self.rt = pbg.RuntimeServiceStub(self.channel)
        self.im = pbg.ImageServiceStub(self.channel)

    def close(self):
        self.channel.close()


@pytest.fixture(scope="module")
def reg():
    r = Registry("http")
    yield r
    r.stop()


@pytest.fixture(scope="module")
def cni_dir():
    d = tempfile.mkdtemp(prefix="isd-cri-cni-")
    yield d
    shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(d + ".ipam", ignore_errors=True)


def lease_dir(cni_dir, net_name):
    return os.path.join(cni_dir.rstrip("/") + ".ipam", net_name)


FLAKY_PLUGIN = """#!/usr/bin/python3
# A CNI plugin for the tests: passes ADD's prevResult through (fails it with failAdd); fails the first DEL of each
# container; with recordDel, records at each DEL whether the namespace it names is there (a pinned nsfs mount)
import json, os, sys
conf = json.load(sys.stdin)
cmd, cid = os.environ.get("CNI_COMMAND"), os.environ.get("CNI_CONTAINERID", "")
mark = os.path.join(conf["markDir"], cid)
if cmd == "DEL" and conf.get("recordDel"):
    ns = os.environ.get("CNI_NETNS", "")
    pinned = any(ln.split()[4] == ns and ln.split(" - ")[1].split()[0] == "nsfs" for ln in open("/proc/self/mountinfo"))
    with open(mark + ".del", "a") as f:
        f.write(json.dumps({"netns": ns, "pinned": pinned}) + "\\n")
elif cmd == "ADD" and conf.get("failAdd"):
    json.dump({"cniVersion": conf["cniVersion"], "code": 11, "msg": "flaky ADD"}, sys.stdout)
    sys.exit(1)
elif cmd == "ADD":
    json.dump(conf.get("prevResult", {"cniVersion": conf["cniVersion"]}), sys.stdout)
elif cmd == "DEL" and not os.path.exists(mark):
    open(mark, "w").close()
    json.dump({"cniVersion": conf["cniVersion"], "code": 11, "msg": "flaky DEL"}, sys.stdout)
    sys.exit(1)
elif cmd == "VERSION":
    json.dump({"cniVersion": "0.4.0", "supportedVersions": ["0.3.0", "0.3.1", "0.4.0"]}, sys.stdout)
"""


@pytest.fixture(scope="module")
def cni_bin():
    d = tempfile.mkdtemp(prefix="isd-cri-bin-")
    with open(os.path.join(d, "flaky"), "w") as f:
        f.write(FLAKY_PLUGIN)
    os.chmod(os.path.join(d, "flaky"), 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def pause_ref(reg):
    """pod-sandbox-image of the module's daemon: in the test registry, pushed by the test that needs it."""
    return "%s/cri-pause:1" % reg.host


@pytest.fixture(scope="module")
def d(reg, cni_dir, pause_ref, cni_bin):
    sock_dir = tempfile.mkdtemp(prefix="isd-cri-", dir="/tmp")
    dm = start_daemon(insecure=[reg.host], args=["--cri-socket", os.path.join(sock_dir, "cri.sock"),
                                                 "--cni-conf-dir", cni_dir, "--pod-sandbox-image", pause_ref,
                                                 "--cni-bin-dir", cni_bin])
    dm.cri_sock = os.path.join(sock_dir, "cri.sock")
    yield dm
    stop_daemon(dm)
    shutil.rmtree(sock_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def isula(d):
    return Isula(d)


@pytest.fixture(scope="module")
def cri(d):
    c = Cri(d.cri_sock)
    yield c
    c.close()


def rpc_error(fn, req):
    with pytest.raises(grpc.RpcError) as e:
        fn(req, timeout=60)
    return e.value


def test_version(cri):
    v = cri.rt.Version(cri.pb.VersionRequest(version="v1"), timeout=30)
    assert v.runtime_name == "isulad"
    assert v.runtime_api_version == "v1"
    assert v.version == "0.1.0"
    assert v.runtime_version.count(".") == 2


def test_v1alpha2_is_served_by_the_same_handlers(d):
    c = Cri(d.cri_sock, "runtime.v1alpha2")
    try:
        assert c.rt.Version(c.pb.VersionRequest(), timeout=30).runtime_name == "isulad"
        names = [t for i in c.im.ListImages(c.pb.ListImagesRequest(), timeout=30).images for t in i.repo_tags]
        assert "busybox:latest" in names
    finally:
        c.close()


def test_unknown_method_is_unimplemented(d):
    ch = grpc.insecure_channel("unix://" + d.cri_sock)
    try:
        call = ch.unary_unary("/runtime.v1.RuntimeService/NoSuchMethod")
        with pytest.raises(grpc.RpcError) as e:
            call(b"", timeout=30)
        assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert "NoSuchMethod" in e.value.details()
        bad = ch.unary_unary("/runtime.v1.ImageService/ImageStatus")
        with pytest.raises(grpc.RpcError) as e:
            bad(b"\xff\xff\xff", timeout=30)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        ch.close()


def write_bridge_conf(cni_dir, fname, name, subnet, bridge, extra=(), data_dir=None):
    """A bridge network; host-local keeps its leases in data_dir/<name> (default: <cni_dir>.ipam, the test's)."""
    conf = {"cniVersion": "0.4.0", "name": name, "plugins": [
        {"type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": False,
         "ipam": {"type": "host-local", "subnet": str(subnet), "routes": [{"dst": "0.0.0.0/0"}],
                  "dataDir": data_dir or cni_dir.rstrip("/") + ".ipam"}},
        {"type": "portmap", "capabilities": {"portMappings": True}}] + list(extra)}
    with open(os.path.join(cni_dir, fname), "w") as f:
        json.dump(conf, f)


def test_status_network_ready_follows_the_cni_conf_dir(cri, cni_dir):
    def conds():
        st = cri.rt.Status(cri.pb.StatusRequest(), timeout=30).status
        return {c.type: c for c in st.conditions}

    for f in os.listdir(cni_dir):
        os.unlink(os.path.join(cni_dir, f))
    c = conds()
    assert c["RuntimeReady"].status is True
    assert c["NetworkReady"].status is False
    assert c["NetworkReady"].reason == "NetworkPluginNotReady"
    assert cni_dir in c["NetworkReady"].message
    write_bridge_conf(cni_dir, "10-status.conflist", "cri-status", "10.254.1.0/24", "isdtstatus0")
    try:
        c = conds()
        assert c["NetworkReady"].status is True and c["NetworkReady"].message == ""
    finally:
        os.unlink(os.path.join(cni_dir, "10-status.conflist"))


def test_list_images_and_status(cri, isula):
    imgs = cri.im.ListImages(cri.pb.ListImagesRequest(), timeout=30).images
    bb = [i for i in imgs if "busybox:latest" in i.repo_tags]
    assert len(bb) == 1
    want_id = isula.ok("inspect", "-f", "{{.Id}}", "busybox")
    assert bb[0].id == want_id and bb[0].size > 0
    only = cri.im.ListImages(cri.pb.ListImagesRequest(
        filter=cri.pb.ImageFilter(image=cri.pb.ImageSpec(image="busybox"))), timeout=30).images
    assert [i.id for i in only] == [want_id]
    st = cri.im.ImageStatus(cri.pb.ImageStatusRequest(image=cri.pb.ImageSpec(image="busybox")), timeout=30)
    assert st.image.id == want_id and "busybox:latest" in st.image.repo_tags
    assert st.image.uid.value == 0 or st.image.username == ""
    none = cri.im.ImageStatus(cri.pb.ImageStatusRequest(image=cri.pb.ImageSpec(image="no-such:img")), timeout=30)
    assert not none.HasField("image")
    e = rpc_error(cri.im.ImageStatus, cri.pb.ImageStatusRequest())
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "image" in e.details()


def test_pull_and_remove_image(cri, isula, reg):
    ref = "%s/cri-pull:v1" % reg.host
    push_image(reg.url, "cri-pull", tag="v1", layers=[busybox_layer()])
    r = cri.im.PullImage(cri.pb.PullImageRequest(image=cri.pb.ImageSpec(image=ref)), timeout=120)
    assert r.image_ref == isula.ok("inspect", "-f", "{{.Id}}", ref)
    st = cri.im.ImageStatus(cri.pb.ImageStatusRequest(image=cri.pb.ImageSpec(image=ref)), timeout=30)
    assert ref in st.image.repo_tags and len(st.image.repo_digests) == 1
    cri.im.RemoveImage(cri.pb.RemoveImageRequest(image=cri.pb.ImageSpec(image=ref)), timeout=30)
    assert isula("inspect", ref).returncode != 0
    # idempotent
    cri.im.RemoveImage(cri.pb.RemoveImageRequest(image=cri.pb.ImageSpec(image=ref)), timeout=30)
    e = rpc_error(cri.im.PullImage, cri.pb.PullImageRequest(image=cri.pb.ImageSpec(image=reg.host + "/nope:x")))
    assert e.code() == grpc.StatusCode.NOT_FOUND, e.details()
    e = rpc_error(cri.im.PullImage, cri.pb.PullImageRequest())
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_image_fs_info(cri, d):
    r = cri.im.ImageFsInfo(cri.pb.ImageFsInfoRequest(), timeout=30)
    assert len(r.image_filesystems) == 1
    fs = r.image_filesystems[0]
    assert fs.fs_id.mountpoint.startswith(d.graph)
    assert fs.used_bytes.value > 1000000  # busybox is in it
    assert fs.inodes_used.value > 10
    assert fs.timestamp > 0


# ---- pod sandboxes ----

needs_cni = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/usr/lib/cni/bridge"),
                               reason="needs root and Debian's containernetworking-plugins")


class PodNet:
    """A bridge network conf (conf in the conf dir; the default network of new pods while first in lexical order)
    on a free 10.254.x.0/24 subnet, with extra plugins after the bridge's."""

    def __init__(self, cni_dir, conf="00-pods.conflist", name_prefix="cri-", bridge_prefix="isdc", extra=()):
        from test_network import free_subnet
        self.cni_dir, self.conf = cni_dir, conf
        self.name = name_prefix + uuid.uuid4().hex[:8]
        self.bridge = bridge_prefix + uuid.uuid4().hex[:8]
        self.subnet = free_subnet()
        write_bridge_conf(cni_dir, conf, self.name, self.subnet, self.bridge, extra=extra)

    def remove_conf(self):
        """New pods stop joining it; pods on it keep their attachments."""
        if os.path.exists(os.path.join(self.cni_dir, self.conf)):
            os.unlink(os.path.join(self.cni_dir, self.conf))

    def cleanup(self):
        self.remove_conf()
        if os.path.exists("/sys/class/net/" + self.bridge):
            subprocess.run(["ip", "link", "delete", self.bridge])


@pytest.fixture(scope="module")
def podnet(cni_dir):
    n = PodNet(cni_dir)
    yield n
    n.cleanup()


@pytest.fixture
def pods(cri, isula):
    """Runs pods through the CRI; removes them after the test, also when it fails."""
    made = []

    def run(name, **cfg):
        meta = cri.pb.PodSandboxMetadata(name=name, namespace="it", uid=uuid.uuid4().hex, attempt=0)
        r = cri.rt.RunPodSandbox(cri.pb.RunPodSandboxRequest(config=cri.pb.PodSandboxConfig(metadata=meta, **cfg)),
                                 timeout=120)
        made.append(r.pod_sandbox_id)
        return r.pod_sandbox_id

    yield run
    for pid in made:
        try:
            cri.rt.RemovePodSandbox(cri.pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=120)
        except grpc.RpcError:
            isula("rm", "-f", pid)


def pod_leftovers(d, podnet, pod_id):
    """What a removed pod must not leave: its netns, veths on the bridge, IP leases, mounts, shims, container."""
    from conftest import leftover_mounts, shim_pids
    left = []
    if os.path.exists(os.path.join(d.state, "netns", pod_id)):
        left.append("netns")
    brif = "/sys/class/net/%s/brif" % podnet.bridge
    if os.path.isdir(brif) and os.listdir(brif):
        left.append("veth %s" % os.listdir(brif))
    ipam = lease_dir(podnet.cni_dir, podnet.name)
    assert os.path.isdir(ipam), ipam  # where the pods' leases were
    if [f for f in os.listdir(ipam) if f[0].isdigit()]:
        left.append("lease")
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    left += ["iptables " + ln for ln in rules.splitlines() if pod_id in ln]
    left += ["mount " + m for m in leftover_mounts(pod_id)]
    left += ["shim %d" % p for p in shim_pids(pod_id)]
    if Isula(d)("inspect", pod_id).returncode == 0:
        left.append("container")
    return left


def pod_status(cri, pod_id):
    return cri.rt.PodSandboxStatus(cri.pb.PodSandboxStatusRequest(pod_sandbox_id=pod_id), timeout=30).status


@needs_cni
def test_run_pod_sandbox_lifecycle(cri, d, isula, podnet, pods, reg, pause_ref):
    push_image(reg.url, "cri-pause", tag="1", layers=[busybox_layer()], cmd=("/bin/sleep", "2147483647"))
    dns = cri.pb.DNSConfig(servers=["10.254.0.10"], searches=["it.svc.local"], options=["ndots:5"])
    pid = pods("web", hostname="pod-web", dns_config=dns, labels={"app": "web", "tier": "front"},
               annotations={"note": "kept as given"})
    st = pod_status(cri, pid)
    assert st.id == pid and st.state == cri.pb.SANDBOX_READY
    assert st.metadata.name == "web" and st.metadata.namespace == "it"
    assert dict(st.labels) == {"app": "web", "tier": "front"}
    assert dict(st.annotations) == {"note": "kept as given"}
    assert ipaddress.ip_address(st.network.ip) in podnet.subnet
    assert st.linux.namespaces.options.network == cri.pb.POD
    assert st.created_at > 0
    info = isula.inspect(pid)
    assert info["Config"]["Image"] == pause_ref
    assert pid in os.listdir(os.path.join(d.state, "netns"))
    assert os.listdir("/sys/class/net/%s/brif" % podnet.bridge)
    assert st.network.ip in os.listdir(lease_dir(podnet.cni_dir, podnet.name))
    # hostname and DNS as the pod sees them
    assert isula.ok("exec", pid, "/bin/busybox", "hostname") == "pod-web"
    resolv = isula.ok("exec", pid, "cat", "/etc/resolv.conf")
    assert "nameserver 10.254.0.10" in resolv and "search it.svc.local" in resolv and "ndots:5" in resolv
    assert st.network.ip in isula.ok("exec", pid, "/bin/busybox", "ip", "-4", "addr", "show", "eth0")

    cri.rt.StopPodSandbox(cri.pb.StopPodSandboxRequest(pod_sandbox_id=pid), timeout=120)
    st = pod_status(cri, pid)
    assert st.state == cri.pb.SANDBOX_NOTREADY
    assert not os.path.exists(os.path.join(d.state, "netns", pid))
    assert not os.listdir("/sys/class/net/%s/brif" % podnet.bridge)
    cri.rt.StopPodSandbox(cri.pb.StopPodSandboxRequest(pod_sandbox_id=pid), timeout=120)  # idempotent
    cri.rt.RemovePodSandbox(cri.pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=120)
    assert pod_leftovers(d, podnet, pid) == []
    cri.rt.RemovePodSandbox(cri.pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=120)  # idempotent
    e = rpc_error(cri.rt.PodSandboxStatus, cri.pb.PodSandboxStatusRequest(pod_sandbox_id=pid))
    assert e.code() == grpc.StatusCode.NOT_FOUND and pid in e.details()
    e = rpc_error(cri.rt.StopPodSandbox, cri.pb.StopPodSandboxRequest(pod_sandbox_id="no-such-pod"))
    assert e.code() == grpc.StatusCode.NOT_FOUND


@needs_cni
def test_list_pod_sandbox_filters(cri, podnet, pods):
    a = pods("list-a", labels={"app": "a", "env": "it"})
    b = pods("list-b", labels={"app": "b", "env": "it"})
    cri.rt.StopPodSandbox(cri.pb.StopPodSandboxRequest(pod_sandbox_id=b), timeout=120)

    def ids(**f):
        req = cri.pb.ListPodSandboxRequest(filter=cri.pb.PodSandboxFilter(**f)) if f else cri.pb.ListPodSandboxRequest()
        return {p.id for p in cri.rt.ListPodSandbox(req, timeout=30).items}

    assert {a, b} <= ids()
    assert ids(label_selector={"env": "it"}) == {a, b}
    assert ids(label_selector={"env": "it", "app": "b"}) == {b}
    assert ids(label_selector={"app": "nope"}) == set()
    assert ids(id=a[:12]) == {a}
    ready = cri.pb.PodSandboxStateValue(state=cri.pb.SANDBOX_READY)
    notready = cri.pb.PodSandboxStateValue(state=cri.pb.SANDBOX_NOTREADY)
    assert ids(label_selector={"env": "it"}, state=ready) == {a}
    assert ids(label_selector={"env": "it"}, state=notready) == {b}
    items = cri.rt.ListPodSandbox(cri.pb.ListPodSandboxRequest(
        filter=cri.pb.PodSandboxFilter(id=a)), timeout=30).items
    assert items[0].metadata.name == "list-a" and dict(items[0].labels) == {"app": "a", "env": "it"}
    assert items[0].created_at > 0 and items[0].state == cri.pb.SANDBOX_READY


@needs_cni
def test_pod_port_mapping(cri, d, isula, podnet, pods):
    port = free_port()
    pm = cri.pb.PortMapping(protocol=cri.pb.TCP, container_port=80, host_port=port, host_ip="127.0.0.1")
    pid = pods("ports", port_mappings=[pm])
    www = tempfile.mkdtemp(prefix="isd-cri-www-")
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("hello from the pod\n")
    netns = "/proc/%d/ns/net" % isula.inspect(pid)["State"]["Pid"]
    srv = subprocess.Popen(["nsenter", "--net=" + netns, "/bin/busybox", "httpd", "-f", "-p", "80", "-h", www])
    try:
        body = None
        deadline = time.time() + 30
        while time.time() < deadline and body is None:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=2) as r:
                    body = r.read().decode()
            except OSError:
                time.sleep(0.1)
        assert body == "hello from the pod\n"
    finally:
        srv.kill()
        srv.wait()
        shutil.rmtree(www, ignore_errors=True)
    assert pid in subprocess.run(["iptables-save", "-t", "nat"], capture_output=True, text=True).stdout
    cri.rt.StopPodSandbox(cri.pb.StopPodSandboxRequest(pod_sandbox_id=pid), timeout=120)
    with pytest.raises(OSError):
        urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=2)
    cri.rt.RemovePodSandbox(cri.pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=120)
    assert pod_leftovers(d, podnet, pid) == []


@needs_cni
def test_host_network_pod(cri, d, isula, podnet, pods):
    node = cri.pb.NamespaceOption(network=cri.pb.NODE, pid=cri.pb.POD, ipc=cri.pb.POD)
    linux = cri.pb.LinuxPodSandboxConfig(
        security_context=cri.pb.LinuxSandboxSecurityContext(namespace_options=node))
    pid = pods("hostnet", linux=linux)
    st = pod_status(cri, pid)
    assert st.state == cri.pb.SANDBOX_READY and st.network.ip == ""
    assert st.linux.namespaces.options.network == cri.pb.NODE
    assert not os.path.exists(os.path.join(d.state, "netns", pid))
    pod_pid = isula.inspect(pid)["State"]["Pid"]
    assert os.readlink("/proc/%d/ns/net" % pod_pid) == os.readlink("/proc/self/ns/net")


@needs_cni
def test_failed_run_pod_sandbox_leaves_nothing(cri, d, isula, podnet):
    netns_dir = os.path.join(d.state, "netns")

    def netns():
        return set(os.listdir(netns_dir)) if os.path.isdir(netns_dir) else set()

    before, netns_before = set(isula.ok("ps", "-a", "-q", "--no-trunc").split()), netns()
    meta = cri.pb.PodSandboxMetadata(name="bad", namespace="it", uid=uuid.uuid4().hex)
    req = cri.pb.RunPodSandboxRequest(config=cri.pb.PodSandboxConfig(metadata=meta), runtime_handler="no-such-rt")
    e = rpc_error(cri.rt.RunPodSandbox, req)
    assert e.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND), e.details()
    assert set(isula.ok("ps", "-a", "-q", "--no-trunc").split()) == before
    assert netns() == netns_before
    e = rpc_error(cri.rt.RunPodSandbox, cri.pb.RunPodSandboxRequest())
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "metadata" in e.details()


@needs_cni
def test_pod_without_network_config_is_refused(cri, d, isula, cni_dir):
    meta = cri.pb.PodSandboxMetadata(name="nonet", namespace="it", uid=uuid.uuid4().hex)
    saved = {f: open(os.path.join(cni_dir, f)).read() for f in os.listdir(cni_dir)}
    for f in saved:
        os.unlink(os.path.join(cni_dir, f))
    try:
        e = rpc_error(cri.rt.RunPodSandbox, cri.pb.RunPodSandboxRequest(config=cri.pb.PodSandboxConfig(metadata=meta)))
        assert e.code() == grpc.StatusCode.UNAVAILABLE and cni_dir in e.details()
    finally:
        for f, text in saved.items():
            with open(os.path.join(cni_dir, f), "w") as fh:
                fh.write(text)
    assert "k8s_POD_nonet" not in isula.ok("ps", "-a")


@needs_cni
def test_builtin_pause_image_when_sandbox_image_cannot_be_pulled(cni_dir, podnet):
    """pod-sandbox-image neither present nor pullable (a registry port that refuses): the pod runs on the
    built-in pause image, whose only program is isulad-pause; it exits at once on SIGTERM."""
    sock_dir = tempfile.mkdtemp(prefix="isd-cri-", dir="/tmp")
    sock = os.path.join(sock_dir, "cri.sock")
    dm = start_daemon(insecure=["127.0.0.1:%d" % free_port()], args=[
        "--cri-socket", sock, "--cni-conf-dir", cni_dir, "--pod-sandbox-image", "127.0.0.1:%d/pause:9" % free_port()])
    c = Cri(sock)
    try:
        meta = c.pb.PodSandboxMetadata(name="offline", namespace="it", uid=uuid.uuid4().hex)
        pid = c.rt.RunPodSandbox(c.pb.RunPodSandboxRequest(config=c.pb.PodSandboxConfig(metadata=meta)),
                                 timeout=120).pod_sandbox_id
        isula = Isula(dm)
        info = isula.inspect(pid)
        assert info["Config"]["Image"] == "isulad/pause:builtin"
        assert info["Path"] == "/pause" and info["State"]["Running"]
        st = c.rt.PodSandboxStatus(c.pb.PodSandboxStatusRequest(pod_sandbox_id=pid), timeout=30).status
        assert ipaddress.ip_address(st.network.ip) in podnet.subnet
        layers = json.dumps(isula.inspect("isulad/pause:builtin")["RootFS"]["Layers"])
        assert layers.count("sha256:") == 1
        # SIGTERM reaches a PID 1 only once it handles it: wait for the pause program's handler (SigCgt bit 15)
        ppid = info["State"]["Pid"]

        def term_caught():
            with open("/proc/%d/status" % ppid) as f:
                cgt = [ln for ln in f if ln.startswith("SigCgt:")][0].split()[1]
            return int(cgt, 16) & (1 << 14)

        deadline = time.time() + 30
        while not term_caught() and time.time() < deadline:
            time.sleep(0.05)
        isula.ok("kill", "-s", "TERM", pid)
        assert isula.ok("wait", pid, timeout=30) == "0"
        c.rt.RemovePodSandbox(c.pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=120)
        assert pod_leftovers(dm, podnet, pid) == []
    finally:
        c.close()
        stop_daemon(dm)
        shutil.rmtree(sock_dir, ignore_errors=True)


# ---- containers in pods ----

def ctr_config(cri, name, args, **kw):
    return cri.pb.ContainerConfig(metadata=cri.pb.ContainerMetadata(name=name), image=cri.pb.ImageSpec(image="busybox"),
                                  args=args, **kw)


def ctr_status(cri, cid):
    return cri.rt.ContainerStatus(cri.pb.ContainerStatusRequest(container_id=cid), timeout=30).status


def proc_ns(pid, ns):
    return os.readlink("/proc/%d/ns/%s" % (pid, ns))


@needs_cni
def test_containers_join_their_pod(cri, d, isula, podnet, pods, tmp_path):
    logdir = str(tmp_path / "pod-logs")
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "f.txt").write_text("from the host\n")
    pid = pods("app", hostname="pod-app", log_directory=logdir,
               dns_config=cri.pb.DNSConfig(servers=["10.254.0.53"], searches=["ns.svc.it"]))
    sbcfg = cri.pb.PodSandboxConfig(metadata=cri.pb.PodSandboxMetadata(name="app", namespace="it", uid="u1"),
                                    log_directory=logdir)
    pidns = cri.pb.LinuxContainerConfig(security_context=cri.pb.LinuxContainerSecurityContext(
        namespace_options=cri.pb.NamespaceOption(pid=cri.pb.POD)))
    cfg = ctr_config(cri, "main", ["sleep", "1000"], working_dir="/tmp",
                     envs=[cri.pb.KeyValue(key="GREETING", value="hi there")],
                     mounts=[cri.pb.Mount(container_path="/data", host_path=str(shared), readonly=True)],
                     labels={"role": "main"}, annotations={"a": "b"}, log_path="main/0.log", linux=pidns)
    cid = cri.rt.CreateContainer(cri.pb.CreateContainerRequest(pod_sandbox_id=pid, config=cfg, sandbox_config=sbcfg),
                                 timeout=60).container_id
    assert os.path.isdir(os.path.join(logdir, "main"))
    st = ctr_status(cri, cid)
    assert st.state == cri.pb.CONTAINER_CREATED and st.metadata.name == "main"
    assert dict(st.labels) == {"role": "main"} and dict(st.annotations) == {"a": "b"}
    assert st.log_path == os.path.join(logdir, "main/0.log") and st.created_at > 0
    cri.rt.StartContainer(cri.pb.StartContainerRequest(container_id=cid), timeout=60)
    st = ctr_status(cri, cid)
    assert st.state == cri.pb.CONTAINER_RUNNING and st.started_at > 0
    assert any(m.container_path == "/data" and m.readonly for m in st.mounts)
    cpid = isula.inspect(cid)["State"]["Pid"]
    spid = isula.inspect(pid)["State"]["Pid"]
    for ns in ("net", "ipc", "uts", "pid"):
        assert proc_ns(cpid, ns) == proc_ns(spid, ns), ns
    assert isula.ok("exec", cid, "hostname") == "pod-app"
    assert isula.ok("exec", cid, "cat", "/etc/hostname") == "pod-app"
    resolv = isula.ok("exec", cid, "cat", "/etc/resolv.conf")
    assert "nameserver 10.254.0.53" in resolv and "search ns.svc.it" in resolv
    assert isula.ok("exec", cid, "sh", "-c", "echo $GREETING; pwd; cat /data/f.txt") == "hi there\n/tmp\nfrom the host"
    ip = pod_status(cri, pid).network.ip
    assert ip in isula.ok("exec", cid, "ip", "-4", "addr", "show", "eth0")

    # a container with its own PID namespace (the CRI's CONTAINER mode)
    own = ctr_config(cri, "side", ["sleep", "1000"])
    cid2 = cri.rt.CreateContainer(cri.pb.CreateContainerRequest(pod_sandbox_id=pid, config=own, sandbox_config=sbcfg),
                                  timeout=60).container_id
    cri.rt.StartContainer(cri.pb.StartContainerRequest(container_id=cid2), timeout=60)
    c2pid = isula.inspect(cid2)["State"]["Pid"]
    assert proc_ns(c2pid, "pid") != proc_ns(spid, "pid") and proc_ns(c2pid, "net") == proc_ns(spid, "net")

    def listed(**f):
        req = cri.pb.ListContainersRequest(filter=cri.pb.ContainerFilter(**f))
        return {c.id for c in cri.rt.ListContainers(req, timeout=30).containers}

    assert listed(pod_sandbox_id=pid) == {cid, cid2}
    assert listed(pod_sandbox_id=pid, label_selector={"role": "main"}) == {cid}
    assert listed(id=cid2[:12]) == {cid2}
    assert listed(pod_sandbox_id=pid, state=cri.pb.ContainerStateValue(state=cri.pb.CONTAINER_RUNNING)) == {cid, cid2}
    c = [c for c in cri.rt.ListContainers(cri.pb.ListContainersRequest(), timeout=30).containers if c.id == cid][0]
    assert c.pod_sandbox_id == pid and c.metadata.name == "main" and c.image.image == "busybox"
    assert c.state == cri.pb.CONTAINER_RUNNING and c.image_ref.startswith("sha256:")
    assert pid not in {c.id for c in cri.rt.ListContainers(cri.pb.ListContainersRequest(), timeout=30).containers}

    # sleep as PID 1 ignores SIGTERM: the timeout ends in SIGKILL
    cri.rt.StopContainer(cri.pb.StopContainerRequest(container_id=cid2, timeout=1), timeout=60)
    st = ctr_status(cri, cid2)
    assert st.state == cri.pb.CONTAINER_EXITED and st.exit_code == 137 and st.reason == "Error"
    assert st.finished_at >= st.started_at > 0
    cri.rt.StopContainer(cri.pb.StopContainerRequest(container_id=cid2, timeout=1), timeout=60)  # idempotent
    assert listed(pod_sandbox_id=pid, state=cri.pb.ContainerStateValue(state=cri.pb.CONTAINER_EXITED)) == {cid2}
    cri.rt.RemoveContainer(cri.pb.RemoveContainerRequest(container_id=cid2), timeout=60)
    cri.rt.RemoveContainer(cri.pb.RemoveContainerRequest(container_id=cid2), timeout=60)  # idempotent
    assert isula("inspect", cid2).returncode != 0
    e = rpc_error(cri.rt.ContainerStatus, cri.pb.ContainerStatusRequest(container_id=cid2))
    assert e.code() == grpc.StatusCode.NOT_FOUND

    # the pod's stop and remove reach its containers
    cri.rt.StopPodSandbox(cri.pb.StopPodSandboxRequest(pod_sandbox_id=pid), timeout=120)
    assert ctr_status(cri, cid).state == cri.pb.CONTAINER_EXITED
    cri.rt.RemovePodSandbox(cri.pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=120)
    assert isula("inspect", cid).returncode != 0
    assert pod_leftovers(d, podnet, pid) == []


@needs_cni
def test_container_exit_code_and_errors(cri, isula, podnet, pods):
    pid = pods("exits")
    cfg = ctr_config(cri, "three", ["sh", "-c", "exit 3"])
    cid = cri.rt.CreateContainer(cri.pb.CreateContainerRequest(pod_sandbox_id=pid, config=cfg),
                                 timeout=60).container_id
    cri.rt.StartContainer(cri.pb.StartContainerRequest(container_id=cid), timeout=60)
    deadline = time.time() + 30
    while ctr_status(cri, cid).state != cri.pb.CONTAINER_EXITED and time.time() < deadline:
        time.sleep(0.1)
    st = ctr_status(cri, cid)
    assert st.state == cri.pb.CONTAINER_EXITED and st.exit_code == 3 and st.reason == "Error"
    e = rpc_error(cri.rt.CreateContainer, cri.pb.CreateContainerRequest(pod_sandbox_id="no-such-pod", config=cfg))
    assert e.code() == grpc.StatusCode.NOT_FOUND
    e = rpc_error(cri.rt.CreateContainer, cri.pb.CreateContainerRequest(pod_sandbox_id=pid))
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad = ctr_config(cri, "noimg", ["true"])
    bad.image.image = "no-such-image:1"
    e = rpc_error(cri.rt.CreateContainer, cri.pb.CreateContainerRequest(pod_sandbox_id=pid, config=bad))
    assert e.code() == grpc.StatusCode.NOT_FOUND
    e = rpc_error(cri.rt.StartContainer, cri.pb.StartContainerRequest(container_id=pid))
    assert e.code() == grpc.StatusCode.NOT_FOUND  # a pod sandbox is not a container


@needs_cni
def test_container_log_in_cri_format_at_kubelets_path(cri, podnet, pods, tmp_path):
    logdir = str(tmp_path / "var-log-pods" / "it_logs_uid")
    pid = pods("logs", log_directory=logdir)
    sbcfg = cri.pb.PodSandboxConfig(metadata=cri.pb.PodSandboxMetadata(name="logs", namespace="it", uid="u2"),
                                    log_directory=logdir)
    cfg = ctr_config(cri, "talker", ["sh", "-c", "echo out one; echo err one >&2; printf 'no newline'"],
                     log_path="talker/0.log")
    cid = cri.rt.CreateContainer(cri.pb.CreateContainerRequest(pod_sandbox_id=pid, config=cfg, sandbox_config=sbcfg),
                                 timeout=60).container_id
    cri.rt.StartContainer(cri.pb.StartContainerRequest(container_id=cid), timeout=60)
    deadline = time.time() + 30
    while ctr_status(cri, cid).state != cri.pb.CONTAINER_EXITED and time.time() < deadline:
        time.sleep(0.1)
    path = os.path.join(logdir, "talker", "0.log")
    assert ctr_status(cri, cid).log_path == path
    deadline = time.time() + 10
    while time.time() < deadline:  # the shim writes the last partial line at the end of the output
        lines = open(path).read().splitlines()
        if len(lines) == 3:
            break
        time.sleep(0.1)
    entries = sorted((ln.split(" ", 3)[1:] for ln in lines), key=lambda e: e[2])
    assert entries == [["stderr", "F", "err one"], ["stdout", "P", "no newline"], ["stdout", "F", "out one"]]
    for ln in lines:
        ts = ln.split(" ", 1)[0]
        assert ts.endswith("Z") and "T" in ts and "." in ts, ts


@needs_cni
def test_exec_sync(cri, d, isula, podnet, pods):
    pid = pods("exec")
    cid = cri.rt.CreateContainer(cri.pb.CreateContainerRequest(
        pod_sandbox_id=pid, config=ctr_config(cri, "box", ["sleep", "1000"])), timeout=60).container_id
    cri.rt.StartContainer(cri.pb.StartContainerRequest(container_id=cid), timeout=60)
    r = cri.rt.ExecSync(cri.pb.ExecSyncRequest(container_id=cid, cmd=["sh", "-c", "echo out; echo err >&2; exit 7"]),
                        timeout=60)
    assert (r.stdout, r.stderr, r.exit_code) == (b"out\n", b"err\n", 7)
    big = cri.rt.ExecSync(cri.pb.ExecSyncRequest(container_id=cid, cmd=["sh", "-c", "head -c 300000 /dev/zero"]),
                          timeout=60)
    assert big.stdout == b"\0" * 300000 and big.exit_code == 0
    # probes run for the life of a pod: an ExecSync leaves no exec record or directory behind
    exec_dir = os.path.join(d.state, "containers", cid, "exec")
    assert not os.path.isdir(exec_dir) or os.listdir(exec_dir) == []
    e = rpc_error(cri.rt.ExecSync, cri.pb.ExecSyncRequest(container_id=cid, cmd=["sleep", "100"], timeout=1))
    assert e.code() == grpc.StatusCode.DEADLINE_EXCEEDED and "timed out" in e.details()
    assert not [ln for ln in isula.ok("top", cid).splitlines() if ln.endswith("sleep 100")]  # killed
    e = rpc_error(cri.rt.ExecSync, cri.pb.ExecSyncRequest(container_id=cid))
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
    e = rpc_error(cri.rt.ExecSync, cri.pb.ExecSyncRequest(container_id="nope", cmd=["true"]))
    assert e.code() == grpc.StatusCode.NOT_FOUND


@needs_cni
def test_stop_pod_sandbox_runs_del_of_every_plugin_even_when_one_fails(cri, d, isula, cni_dir, pods, tmp_path):
    """The last plugin of the pod's network fails its first DEL: StopPodSandbox still succeeds and the bridge
    plugin's DEL runs (veth gone, address released); RemovePodSandbox retries what is left; nothing remains."""
    marks = tmp_path / "marks"
    marks.mkdir()
    # first in lexical order ("-" < "0"): the default network for this pod
    net = PodNet(cni_dir, "0-flaky.conflist", "cri-flaky-", "isdf",
                 extra=[{"type": "flaky", "markDir": str(marks)}])
    try:
        pid = pods("flaky")
    finally:
        net.remove_conf()
    try:
        assert ipaddress.ip_address(pod_status(cri, pid).network.ip) in net.subnet
        cri.rt.StopPodSandbox(cri.pb.StopPodSandboxRequest(pod_sandbox_id=pid), timeout=120)
        assert os.path.exists(marks / pid)  # the flaky DEL ran and failed
        assert not os.listdir("/sys/class/net/%s/brif" % net.bridge)  # the bridge plugin's DEL ran too
        ipam = lease_dir(cni_dir, net.name)
        assert os.path.isdir(ipam) and not [f for f in os.listdir(ipam) if f[0].isdigit()]
        assert "flaky DEL" in d.read_log()
        cri.rt.RemovePodSandbox(cri.pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=120)
        assert pod_leftovers(d, net, pid) == []
        assert not os.path.exists(os.path.join(d.graph, "network", "cache", pid))
    finally:
        net.cleanup()


@needs_cni
def test_stop_pod_sandbox_releases_the_network_while_the_pod_still_has_its_namespace(cri, d, isula, cni_dir, pods,
                                                                                     tmp_path):
    """StopPodSandbox of a pod with a running container: every DEL sees the pod's namespace still pinned (it is
    removed only after them), the container and the sandbox are stopped, the namespace is gone once the stop
    answers, and RemovePodSandbox leaves nothing."""
    marks = tmp_path / "marks"
    marks.mkdir()
    # first in lexical order ("-" < "0"): the default network for this pod
    net = PodNet(cni_dir, "0-rec.conflist", "cri-rec-", "isdr",
                 extra=[{"type": "flaky", "markDir": str(marks), "recordDel": True}])
    try:
        pid = pods("rec")
    finally:
        net.remove_conf()
    try:
        sb = pod_status(cri, pid)
        cfg = cri.pb.PodSandboxConfig(metadata=sb.metadata)
        cid = cri.rt.CreateContainer(cri.pb.CreateContainerRequest(
            pod_sandbox_id=pid, config=ctr_config(cri, "c", ["sleep", "1000"]), sandbox_config=cfg),
            timeout=120).container_id
        cri.rt.StartContainer(cri.pb.StartContainerRequest(container_id=cid), timeout=120)
        assert ctr_status(cri, cid).state == cri.pb.CONTAINER_RUNNING
        netns = os.path.join(d.state, "netns", pid)
        assert os.path.exists(netns)
        cri.rt.StopPodSandbox(cri.pb.StopPodSandboxRequest(pod_sandbox_id=pid), timeout=120)
        records = [json.loads(ln) for ln in (marks / (pid + ".del")).read_text().splitlines()]
        assert records and all(r == {"netns": netns, "pinned": True} for r in records), records
        assert ctr_status(cri, cid).state == cri.pb.CONTAINER_EXITED
        assert pod_status(cri, pid).state == cri.pb.SANDBOX_NOTREADY
        assert not os.path.exists(netns)
        assert not os.listdir("/sys/class/net/%s/brif" % net.bridge)
        cri.rt.RemovePodSandbox(cri.pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=120)
        assert pod_leftovers(d, net, pid) == []
        assert not os.path.exists(os.path.join(d.graph, "network", "cache", pid))
    finally:
        net.cleanup()


@needs_cni
def test_container_stats(cri, podnet, pods):
    pid = pods("stats")
    # holds 8 MB in a shell variable, having spent some CPU making it (the echo after sleep keeps the shell from
    # exec'ing sleep and dropping the variable)
    hold = ctr_config(cri, "hold", ["sh", "-c", "x=$(head -c 8000000 /dev/zero | tr '\\0' a); sleep 1000; echo ${#x}"],
                      labels={"k": "stats"})
    cid = cri.rt.CreateContainer(cri.pb.CreateContainerRequest(pod_sandbox_id=pid, config=hold),
                                 timeout=60).container_id
    cri.rt.StartContainer(cri.pb.StartContainerRequest(container_id=cid), timeout=60)
    idle = cri.rt.CreateContainer(cri.pb.CreateContainerRequest(
        pod_sandbox_id=pid, config=ctr_config(cri, "idle", ["sleep", "1000"])), timeout=60).container_id
    deadline = time.time() + 60
    while time.time() < deadline:
        st = cri.rt.ContainerStats(cri.pb.ContainerStatsRequest(container_id=cid), timeout=30).stats
        if st.memory.working_set_bytes.value > 8000000:
            break
        time.sleep(0.2)
    assert st.attributes.id == cid and st.attributes.metadata.name == "hold"
    assert dict(st.attributes.labels) == {"k": "stats"}
    assert st.memory.working_set_bytes.value > 8000000
    assert st.memory.usage_bytes.value >= st.memory.working_set_bytes.value
    assert st.cpu.usage_core_nano_seconds.value > 0 and st.cpu.timestamp > 0
    # only running containers are listed (idle was never started)
    listed = cri.rt.ListContainerStats(cri.pb.ListContainerStatsRequest(
        filter=cri.pb.ContainerStatsFilter(pod_sandbox_id=pid)), timeout=30).stats
    assert [s.attributes.id for s in listed] == [cid]
    assert not cri.rt.ListContainerStats(cri.pb.ListContainerStatsRequest(
        filter=cri.pb.ContainerStatsFilter(label_selector={"k": "other"})), timeout=30).stats
    e = rpc_error(cri.rt.ContainerStats, cri.pb.ContainerStatsRequest(container_id="nope"))
    assert e.code() == grpc.StatusCode.NOT_FOUND
    assert idle


def test_cri_on_the_daemons_own_socket(d, isula):
    """The daemon's socket serves gRPC (by the HTTP/2 preface) and REST side by side."""
    c = Cri(d.sock)
    c2 = Cri(d.sock, "runtime.v1alpha2")
    try:
        assert c.rt.Version(c.pb.VersionRequest(), timeout=30).runtime_name == "isulad"
        ids = {i.id for i in c2.im.ListImages(c2.pb.ListImagesRequest(), timeout=30).images}
        assert isula.ok("inspect", "-f", "{{.Id}}", "busybox") in ids
        assert "isulad" in isula.ok("version")
    finally:
        c.close()
        c2.close()


@needs_cni
def test_container_resources_at_create_and_update(cri, isula, podnet, pods):
    from test_resources import cg_read
    pid = pods("res")
    res = cri.pb.LinuxContainerResources(memory_limit_in_bytes=64 << 20, cpu_shares=256)
    cfg = ctr_config(cri, "res", ["sleep", "1000"], linux=cri.pb.LinuxContainerConfig(resources=res))
    cid = cri.rt.CreateContainer(cri.pb.CreateContainerRequest(pod_sandbox_id=pid, config=cfg),
                                 timeout=60).container_id
    cri.rt.StartContainer(cri.pb.StartContainerRequest(container_id=cid), timeout=60)
    cpid = isula.inspect(cid)["State"]["Pid"]
    assert cg_read(cpid, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert cg_read(cpid, "cpu", "cpu.shares") == "256"
    new = cri.pb.LinuxContainerResources(memory_limit_in_bytes=128 << 20, cpu_period=100000, cpu_quota=50000)
    cri.rt.UpdateContainerResources(cri.pb.UpdateContainerResourcesRequest(container_id=cid, linux=new), timeout=60)
    assert cg_read(cpid, "memory", "memory.limit_in_bytes") == str(128 << 20)
    assert cg_read(cpid, "cpu", "cpu.cfs_quota_us") == "50000"
    assert cg_read(cpid, "cpu", "cpu.cfs_period_us") == "100000"
    e = rpc_error(cri.rt.UpdateContainerResources, cri.pb.UpdateContainerResourcesRequest(container_id="nope",
                                                                                           linux=new))
    assert e.code() == grpc.StatusCode.NOT_FOUND


def test_update_runtime_config_is_accepted(cri):
    cfg = cri.pb.RuntimeConfig(network_config=cri.pb.NetworkConfig(pod_cidr="10.254.0.0/16"))
    cri.rt.UpdateRuntimeConfig(cri.pb.UpdateRuntimeConfigRequest(runtime_config=cfg), timeout=30)


@needs_cni
def test_reopen_container_log_after_rotation(cri, podnet, pods, tmp_path):
    logdir = str(tmp_path / "pod")
    pid = pods("rotate", log_directory=logdir)
    sbcfg = cri.pb.PodSandboxConfig(metadata=cri.pb.PodSandboxMetadata(name="rotate", namespace="it", uid="u3"),
                                    log_directory=logdir)
    cfg = ctr_config(cri, "ticker", ["sh", "-c", "while true; do echo tick; sleep 0.1; done"], log_path="t/0.log")
    cid = cri.rt.CreateContainer(cri.pb.CreateContainerRequest(pod_sandbox_id=pid, config=cfg, sandbox_config=sbcfg),
                                 timeout=60).container_id
    cri.rt.StartContainer(cri.pb.StartContainerRequest(container_id=cid), timeout=60)
    path = os.path.join(logdir, "t", "0.log")

    def wait_for_tick(p):
        deadline = time.time() + 30
        while time.time() < deadline:
            if os.path.exists(p) and " stdout F tick" in open(p).read():
                return
            time.sleep(0.1)
        raise AssertionError("no tick in " + p)

    wait_for_tick(path)
    os.rename(path, path + ".1")  # what kubelet's rotation does
    cri.rt.ReopenContainerLog(cri.pb.ReopenContainerLogRequest(container_id=cid), timeout=30)
    wait_for_tick(path)
    size = os.path.getsize(path + ".1")
    time.sleep(0.5)
    assert os.path.getsize(path + ".1") == size  # the old file no longer grows
    cri.rt.StopContainer(cri.pb.StopContainerRequest(container_id=cid, timeout=0), timeout=60)
    e = rpc_error(cri.rt.ReopenContainerLog, cri.pb.ReopenContainerLogRequest(container_id=cid))
    assert "not running" in e.details()


def status_field(isula, cid, name):
    for ln in isula.ok("exec", cid, "cat", "/proc/1/status").splitlines():
        if ln.startswith(name + ":"):
            return ln.split(":", 1)[1].split()
    raise AssertionError(name)


@needs_cni
def test_container_security_context(cri, isula, podnet, pods):
    pid = pods("secctx")
    sc = cri.pb.LinuxContainerSecurityContext(
        run_as_user=cri.pb.Int64Value(value=1000), run_as_group=cri.pb.Int64Value(value=2000),
        supplemental_groups=[3000, 3001], no_new_privs=True, readonly_rootfs=True,
        capabilities=cri.pb.Capability(add_capabilities=["NET_ADMIN"], drop_capabilities=["CHOWN"]))
    cfg = ctr_config(cri, "sec", ["sleep", "1000"], linux=cri.pb.LinuxContainerConfig(security_context=sc))
    cid = cri.rt.CreateContainer(cri.pb.CreateContainerRequest(pod_sandbox_id=pid, config=cfg),
                                 timeout=60).container_id
    cri.rt.StartContainer(cri.pb.StartContainerRequest(container_id=cid), timeout=60)
    assert status_field(isula, cid, "Uid")[0] == "1000" and status_field(isula, cid, "Gid")[0] == "2000"
    assert set(status_field(isula, cid, "Groups")) >= {"3000", "3001"}
    assert status_field(isula, cid, "NoNewPrivs") == ["1"]
    bnd = int(status_field(isula, cid, "CapBnd")[0], 16)
    assert bnd & (1 << 12)  # CAP_NET_ADMIN added
    assert not bnd & (1 << 0)  # CAP_CHOWN dropped
    assert isula("exec", cid, "touch", "/x").returncode != 0  # read-only rootfs
    sc_bad = cri.pb.LinuxContainerSecurityContext(run_as_group=cri.pb.Int64Value(value=5))
    bad = ctr_config(cri, "bad", ["true"], linux=cri.pb.LinuxContainerConfig(security_context=sc_bad))
    e = rpc_error(cri.rt.CreateContainer, cri.pb.CreateContainerRequest(pod_sandbox_id=pid, config=bad))
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "run_as_group" in e.details()


@needs_cni
def test_run_pod_sandbox_failing_at_start_leaves_nothing(cri, d, isula, podnet):
    """The runtime refuses the sandbox after the network was set up (a sysctl value the kernel rejects):
    no container, namespace, veth or address lease remains."""
    before = set(isula.ok("ps", "-a", "-q", "--no-trunc").split())
    meta = cri.pb.PodSandboxMetadata(name="badstart", namespace="it", uid=uuid.uuid4().hex)
    linux = cri.pb.LinuxPodSandboxConfig(sysctls={"net.ipv4.ip_local_port_range": "not numbers"})
    e = rpc_error(cri.rt.RunPodSandbox, cri.pb.RunPodSandboxRequest(
        config=cri.pb.PodSandboxConfig(metadata=meta, linux=linux)))
    assert "start pod sandbox" in e.details() and "ip_local_port_range" in e.details(), e.details()
    assert os.path.isdir("/sys/class/net/%s/brif" % podnet.bridge)  # the bridge plugin's ADD ran
    assert set(isula.ok("ps", "-a", "-q", "--no-trunc").split()) == before
    netns_dir = os.path.join(d.state, "netns")
    assert not [n for n in (os.listdir(netns_dir) if os.path.isdir(netns_dir) else []) if n not in before]
    assert not os.listdir("/sys/class/net/%s/brif" % podnet.bridge)
    ipam = lease_dir(podnet.cni_dir, podnet.name)
    assert os.path.isdir(ipam) and not [f for f in os.listdir(ipam) if f[0].isdigit()]


@needs_cni
def test_run_pod_sandbox_failing_in_a_plugin_add_leaves_nothing(cri, d, isula, cni_dir, tmp_path):
    """The last plugin of the pod's network fails its ADD (the bridge plugin's ran): RunPodSandbox fails with the
    plugin's message and no container, shim, namespace, veth or address lease remains."""
    from conftest import shim_pids
    # first in lexical order: the default network for this pod
    net = PodNet(cni_dir, "0-addfail.conflist", "cri-addfail-", "isda",
                 extra=[{"type": "flaky", "markDir": str(tmp_path), "failAdd": True}])
    before = set(isula.ok("ps", "-a", "-q", "--no-trunc").split())
    shims = set(shim_pids(d.state))
    meta = cri.pb.PodSandboxMetadata(name="addfail", namespace="it", uid=uuid.uuid4().hex)
    try:
        e = rpc_error(cri.rt.RunPodSandbox, cri.pb.RunPodSandboxRequest(config=cri.pb.PodSandboxConfig(metadata=meta)))
        assert "flaky ADD" in e.details(), e.details()
        assert os.path.isdir("/sys/class/net/%s/brif" % net.bridge)  # the bridge plugin's ADD ran
        assert set(isula.ok("ps", "-a", "-q", "--no-trunc").split()) == before
        assert set(shim_pids(d.state)) <= shims
        netns_dir = os.path.join(d.state, "netns")
        assert not [n for n in (os.listdir(netns_dir) if os.path.isdir(netns_dir) else []) if n not in before]
        assert not os.listdir("/sys/class/net/%s/brif" % net.bridge)
        ipam = lease_dir(cni_dir, net.name)
        assert not os.path.isdir(ipam) or not [f for f in os.listdir(ipam) if f[0].isdigit()]
    finally:
        net.cleanup()


def test_builtin_pause_image_named_in_the_config_is_used_without_a_registry(tmp_path):
    """pod-sandbox-image = isulad/pause:builtin selects the built-in image at once (no pull, no warning)."""
    sock = str(tmp_path / "cri.sock")
    dm = start_daemon(args=["--cri-socket", sock, "--pod-sandbox-image", "isulad/pause:builtin"])
    c = Cri(sock)
    try:
        node = c.pb.LinuxPodSandboxConfig(security_context=c.pb.LinuxSandboxSecurityContext(
            namespace_options=c.pb.NamespaceOption(network=c.pb.NODE)))
        meta = c.pb.PodSandboxMetadata(name="named", namespace="it", uid=uuid.uuid4().hex)
        pid = c.rt.RunPodSandbox(c.pb.RunPodSandboxRequest(config=c.pb.PodSandboxConfig(metadata=meta, linux=node)),
                                 timeout=120).pod_sandbox_id
        assert Isula(dm).inspect(pid)["Config"]["Image"] == "isulad/pause:builtin"
        assert "unavailable" not in dm.read_log() and "pull" not in dm.read_log().lower()
        c.rt.RemovePodSandbox(c.pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=120)
    finally:
        c.close()
        stop_daemon(dm)
