"""The CRI (Kubernetes Container Runtime Interface, gRPC) of isulad, driven by a Python grpcio client whose stubs
are compiled at test time from api/cri/api.proto with Debian's python3-grpc-tools, once for runtime.v1 and once
for runtime.v1alpha2 (same messages, other package). The daemon of this module serves the CRI on its own socket
(`--cri-socket`) and reads a test CNI conf dir holding a bridge network on a private 10.254.x.0/24 subnet.
"""
import importlib
import os
import shutil
import subprocess
import sys
import tempfile

import grpc
import pytest

from conftest import ROOT, Isula
from registry import Registry, busybox_layer, push_image, start_daemon, stop_daemon  # noqa: F401

PROTO = os.path.join(ROOT, "api", "cri", "api.proto")


def compile_proto(package):
    """Stubs of api.proto under `package` (runtime.v1 or runtime.v1alpha2): (messages module, grpc module)."""
    out = tempfile.mkdtemp(prefix="isd-cri-py-")
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
        return importlib.import_module(name + "_pb2"), importlib.import_module(name + "_pb2_grpc")
    finally:
        sys.path.remove(out)


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


@pytest.fixture(scope="module")
def d(reg, cni_dir):
    sock_dir = tempfile.mkdtemp(prefix="isd-cri-", dir="/tmp")
    dm = start_daemon(insecure=[reg.host], args=["--cri-socket", os.path.join(sock_dir, "cri.sock"),
                                                 "--cni-conf-dir", cni_dir])
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


def write_bridge_conf(cni_dir, fname, name, subnet, bridge):
    import json
    conf = {"cniVersion": "0.4.0", "name": name, "plugins": [
        {"type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": False,
         "ipam": {"type": "host-local", "subnet": str(subnet), "routes": [{"dst": "0.0.0.0/0"}]}},
        {"type": "portmap", "capabilities": {"portMappings": True}}]}
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
