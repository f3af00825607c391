"""CDI (Container Device Interface) devices: spec files written by the tests into the spec directories of the
module's daemon (enable-cdi and cdi-spec-dirs from its daemon.json), requested with `isula run --device
vendor.com/class=name`, the Docker API's DeviceRequests (driver "cdi": the Docker SDK and the docker CLI's
`--device`), and the CRI's CDI_devices field and `cdi.k8s.io/` annotations. Inside the container: the device node
with the host node's major:minor, openable (the devices cgroup allows it, where a node made by hand with the same
numbers is refused), the environment, a read-only mount, a hook that ran, the additional groups."""
import json
import os
import shutil
import subprocess
import tempfile
import uuid

import docker
import grpc
import pytest

from conftest import Isula, bin_path
from registry import busybox_layer, docker_cli, push_image, start_daemon, stop_daemon
from test_cri import Cri, reg  # noqa: F401  (fixture)

LOOP_CONTROL = "/dev/loop-control"

pytestmark = pytest.mark.skipif(not os.path.exists(LOOP_CONTROL), reason="needs /dev/loop-control (loop module)")


def host_numbers(path):
    st = os.stat(path)
    return os.major(st.st_rdev), os.minor(st.st_rdev)


@pytest.fixture(scope="module")
def dirs():
    """Two spec directories (the second wins) and a directory for what the hooks and mounts touch."""
    base = tempfile.mkdtemp(prefix="isd-cdi-")
    out = {k: os.path.join(base, k) for k in ("low", "high", "work")}
    for p in out.values():
        os.makedirs(p)
    out["base"] = base
    yield out
    shutil.rmtree(base, ignore_errors=True)


def write_spec(directory, fname, spec):
    path = os.path.join(directory, fname)
    with open(path, "w") as f:
        f.write(spec if isinstance(spec, str) else json.dumps(spec))
    return path


@pytest.fixture(scope="module")
def vendor(dirs):
    """example.com/test=ctl: /dev/loop-control as /dev/mycdi, env, a read-only bind, a poststart hook saving the
    container's state, group 4242 (and a 0 that must be ignored); a spec-level env for every device of the file."""
    work = dirs["work"]
    with open(os.path.join(work, "shared.txt"), "w") as f:
        f.write("from the cdi mount\n")
    hook = os.path.join(work, "hook.sh")
    with open(hook, "w") as f:
        f.write('#!/bin/sh\ncat > "$1"\n')
    os.chmod(hook, 0o755)
    spec = {"cdiVersion": "0.7.0", "kind": "example.com/test",
            "containerEdits": {"env": ["CDI_SPEC_LEVEL=1"]},
            "devices": [
                {"name": "ctl", "containerEdits": {
                    "env": ["CDI_DEVICE=ctl"],
                    "deviceNodes": [{"path": "/dev/mycdi", "hostPath": LOOP_CONTROL}],
                    "mounts": [{"hostPath": work, "containerPath": "/cdi", "options": ["ro"]}],
                    "hooks": [{"hookName": "poststart", "path": hook, "args": ["hook", os.path.join(work, "state")]}],
                    "additionalGids": [4242, 0]}},
                {"name": "ro", "containerEdits": {
                    "deviceNodes": [{"path": "/dev/myro", "type": "c", "major": host_numbers(LOOP_CONTROL)[0],
                                     "minor": host_numbers(LOOP_CONTROL)[1], "permissions": "r"}]}}]}
    write_spec(dirs["low"], "test.json", spec)
    return {"hook_state": os.path.join(work, "state"), "work": work}


@pytest.fixture(scope="module")
def d(dirs, vendor, reg):  # noqa: F811
    sock_dir = tempfile.mkdtemp(prefix="isd-cdi-cri-", dir="/tmp")
    dm = start_daemon(insecure=[reg.host], conf={"enable-cdi": True, "cdi-spec-dirs": [dirs["low"], dirs["high"]]},
                      args=["--cri-socket", os.path.join(sock_dir, "cri.sock"),
                            "--pod-sandbox-image", "%s/cdi-pause:1" % reg.host])
    dm.cri_sock = os.path.join(sock_dir, "cri.sock")
    yield dm
    stop_daemon(dm)
    shutil.rmtree(sock_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def isula(d):
    return Isula(d)


def run_ok(isula, *args):
    r = isula("run", "--rm", *args)
    assert r.returncode == 0, r.stderr
    return r.stdout


CHECK = ("stat -c '%F %t:%T' /dev/mycdi; exec 3<>/dev/mycdi && echo opened; echo env=$CDI_DEVICE,$CDI_SPEC_LEVEL; "
         "cat /cdi/shared.txt; touch /cdi/x 2>/dev/null || echo read-only; id -G")


def assert_ctl_device(out):
    major, minor = host_numbers(LOOP_CONTROL)
    lines = out.splitlines()
    assert lines[0] == "character special file %x:%x" % (major, minor)
    assert lines[1] == "opened"
    assert lines[2] == "env=ctl,1"
    assert lines[3] == "from the cdi mount"
    assert lines[4] == "read-only"
    assert lines[5].split() == ["0", "4242"]


def test_isula_device_gets_node_env_mount_hook_and_groups(isula, vendor):
    if os.path.exists(vendor["hook_state"]):
        os.unlink(vendor["hook_state"])
    name = "cdi-" + uuid.uuid4().hex[:8]
    r = isula("run", "--name", name, "--device", "example.com/test=ctl", "busybox", "sh", "-c", CHECK)
    try:
        assert r.returncode == 0, r.stderr
        assert_ctl_device(r.stdout)
        with open(vendor["hook_state"]) as f:  # the runtime handed the poststart hook this container's state
            assert json.load(f)["id"] == isula.inspect(name)["Id"]
    finally:
        isula("rm", "-f", name)


def test_without_cdi_the_same_numbers_are_denied_by_the_devices_cgroup(isula):
    major, minor = host_numbers(LOOP_CONTROL)
    r = isula("run", "--rm", "busybox", "sh", "-c",
              "mknod /tmp/n c %d %d && exec 3<>/tmp/n && echo opened" % (major, minor))
    assert "opened" not in r.stdout
    assert "Operation not permitted" in r.stderr + r.stdout


def test_explicit_node_numbers_and_permissions(isula):
    """A node given with its type and numbers (no host path to stat) and cgroup permission "r" only."""
    out = run_ok(isula, "--device", "example.com/test=ro", "busybox", "sh", "-c",
                 "stat -c '%t:%T' /dev/myro; exec 3</dev/myro && echo read-ok; "
                 "(exec 4<>/dev/myro) 2>/dev/null || echo no-write")
    assert out.splitlines() == ["%x:%x" % host_numbers(LOOP_CONTROL), "read-ok", "no-write"]


def test_inspect_shows_the_request_as_a_cdi_device_request(isula):
    cid = isula.ok("create", "--device", "example.com/test=ro", "busybox", "true")
    try:
        reqs = isula.inspect(cid)["HostConfig"]["DeviceRequests"]
        assert reqs == [{"Driver": "cdi", "DeviceIDs": ["example.com/test=ro"]}]
    finally:
        isula("rm", "-f", cid)


YAML_SPEC = """\
cdiVersion: 0.6.0
kind: example.com/yaml
containerEdits:
  env: [FROM_YAML_SPEC=1]
devices:
  - name: "null.0"
    containerEdits:
      env:
        - FROM_YAML=yes
      deviceNodes:
        - path: /dev/ynull
          hostPath: /dev/null
          fileMode: 0640
"""


def test_yaml_spec_file(isula, dirs):
    path = write_spec(dirs["low"], "yaml-test.yaml", YAML_SPEC)
    try:
        out = run_ok(isula, "--device", "example.com/yaml=null.0", "busybox", "sh", "-c",
                     "echo $FROM_YAML,$FROM_YAML_SPEC; stat -c '%a %t:%T' /dev/ynull")
        assert out.split() == ["yes,1", "640", "1:3"]  # 0640 read as YAML 1.1 octal
    finally:
        os.unlink(path)


def test_later_spec_dir_wins_and_a_changed_file_is_read_again(isula, dirs):
    spec = {"cdiVersion": "0.5.0", "kind": "example.com/prio",
            "devices": [{"name": "d", "containerEdits": {"env": ["WHO=low"]}}]}
    low = write_spec(dirs["low"], "prio.json", spec)
    try:
        assert run_ok(isula, "--device", "example.com/prio=d", "busybox", "sh", "-c", "echo $WHO").strip() == "low"
        spec["devices"][0]["containerEdits"]["env"] = ["WHO=high"]
        high = write_spec(dirs["high"], "prio.json", spec)
        assert run_ok(isula, "--device", "example.com/prio=d", "busybox", "sh", "-c", "echo $WHO").strip() == "high"
        spec["devices"][0]["containerEdits"]["env"] = ["WHO=high2"]
        write_spec(dirs["high"], "prio.json", json.dumps(spec) + "\n")  # new size: re-read
        assert run_ok(isula, "--device", "example.com/prio=d", "busybox", "sh", "-c", "echo $WHO").strip() == "high2"
        # two files of one directory defining the device: a conflict naming both
        dup = write_spec(dirs["high"], "prio-dup.json", spec)
        r = isula("run", "--rm", "--device", "example.com/prio=d", "busybox", "true")
        assert r.returncode == 125
        assert "defined in both" in r.stderr and high in r.stderr and dup in r.stderr
        os.unlink(dup)
    finally:
        for p in (low, os.path.join(dirs["high"], "prio.json")):
            if os.path.exists(p):
                os.unlink(p)


def test_unknown_device_is_refused_at_create(isula):
    before = isula.ok("ps", "-aq")
    r = isula("create", "--device", "example.com/test=nope", "busybox", "true")
    assert r.returncode == 125
    assert r.stderr.strip().splitlines() == [
        "Error response from daemon: unresolvable CDI device `example.com/test=nope`: no such device in the CDI "
        "spec directories"]
    assert isula.ok("ps", "-aq") == before


def test_invalid_device_names(isula):
    for name, why in (("example.com/test=*", "the name must start with a letter or digit"),
                      ("example.com/a/b=x", "exactly one `/`"),
                      ("1vendor.com/c=x", "must start with a letter")):
        r = isula("create", "--device", name, "busybox", "true")
        assert r.returncode == 125, name
        assert "invalid CDI device name `%s`" % name in r.stderr and why in r.stderr, r.stderr


def test_malformed_spec_file_is_named_and_others_still_work(isula, dirs):
    bad = write_spec(dirs["low"], "broken.json", '{"cdiVersion": "0.6.0", "kind": "broken.com/x", "devices": [')
    strict = write_spec(dirs["low"], "strict.json", {"cdiVersion": "0.6.0", "kind": "broken.com/y", "devices": [
        {"name": "a", "containerEdits": {"deviceNodes": [{"path": "/dev/a", "bogus": 1}]}}]})
    badver = write_spec(dirs["low"], "version.yaml", "cdiVersion: 9.9.9\nkind: broken.com/z\ndevices: []\n")
    try:
        r = isula("run", "--rm", "--device", "broken.com/x=a", "busybox", "true")
        assert r.returncode == 125
        msg = r.stderr.strip()
        assert len(msg.splitlines()) == 1
        assert "unresolvable CDI device `broken.com/x=a`" in msg
        assert "CDI spec file `%s`: invalid JSON" % bad in msg
        assert ("CDI spec file `%s`: device `a`: containerEdits.deviceNodes[0]: unknown field `bogus`" % strict) in msg
        assert "CDI spec file `%s`: unsupported cdiVersion `9.9.9`" % badver in msg
        # a good file next to them still serves its devices
        assert "opened" in run_ok(isula, "--device", "example.com/test=ctl", "busybox", "sh", "-c", CHECK)
    finally:
        for p in (bad, strict, badver):
            os.unlink(p)


def test_missing_host_node_or_hook_fails_the_create(isula, dirs):
    p = write_spec(dirs["low"], "gone.json", {"cdiVersion": "0.5.0", "kind": "example.com/gone", "devices": [
        {"name": "g", "containerEdits": {"deviceNodes": [{"path": "/dev/g", "hostPath": "/dev/no-such-node"}]}},
        {"name": "h", "containerEdits": {"hooks": [{"hookName": "createRuntime", "path": "/no/such/hook"}]}}]})
    try:
        r = isula("create", "--device", "example.com/gone=g", "busybox", "true")
        assert r.returncode == 125
        assert "CDI device node `/dev/no-such-node`: No such file or directory" in r.stderr
        r = isula("create", "--device", "example.com/gone=h", "busybox", "true")
        assert r.returncode == 125
        assert "CDI hook createRuntime `/no/such/hook`: No such file or directory" in r.stderr
    finally:
        os.unlink(p)


# ---- Docker API ----

def test_docker_sdk_device_request(d, dirs):
    client = docker.DockerClient(base_url="unix://" + d.sock, version="1.41", timeout=60)
    try:
        assert client.info()["CDISpecDirs"] == [dirs["low"], dirs["high"]]
        out = client.containers.run("busybox", ["sh", "-c", CHECK], remove=True, device_requests=[
            docker.types.DeviceRequest(driver="cdi", device_ids=["example.com/test=ctl"])])
        assert_ctl_device(out.decode())
        with pytest.raises(docker.errors.APIError) as e:
            client.containers.create("busybox", "true", device_requests=[
                docker.types.DeviceRequest(driver="cdi", device_ids=["example.com/test=nope"])])
        assert e.value.status_code == 400
        assert "unresolvable CDI device `example.com/test=nope`" in str(e.value)
    finally:
        client.close()


def test_docker_cli_device_flag(d):
    r = docker_cli(d, "run", "--rm", "--device", "example.com/test=ctl", "busybox", "sh", "-c", CHECK)
    assert r.returncode == 0, r.stderr
    assert_ctl_device(r.stdout)


# ---- CRI ----

@pytest.fixture(scope="module")
def cri(d, reg):  # noqa: F811
    push_image(reg.url, "cdi-pause", tag="1", layers=[busybox_layer()], cmd=("/bin/sleep", "2147483647"))
    c = Cri(d.cri_sock)
    yield c
    c.close()


def test_cri_cdi_devices_and_annotations(cri, isula):
    meta = cri.pb.PodSandboxMetadata(name="cdi", namespace="it", uid=uuid.uuid4().hex, attempt=0)
    host_net = cri.pb.LinuxPodSandboxConfig(security_context=cri.pb.LinuxSandboxSecurityContext(
        namespace_options=cri.pb.NamespaceOption(network=cri.pb.NODE)))
    sb = cri.pb.PodSandboxConfig(metadata=meta, linux=host_net)
    pod = cri.rt.RunPodSandbox(cri.pb.RunPodSandboxRequest(config=sb), timeout=120).pod_sandbox_id
    try:
        def create(name, **kw):
            cfg = cri.pb.ContainerConfig(metadata=cri.pb.ContainerMetadata(name=name),
                                         image=cri.pb.ImageSpec(image="busybox"),
                                         args=["sh", "-c", CHECK + "; stat -c '%t:%T' /dev/myro 2>&1"], **kw)
            return cri.rt.CreateContainer(cri.pb.CreateContainerRequest(pod_sandbox_id=pod, config=cfg,
                                                                        sandbox_config=sb), timeout=60).container_id

        cid = create("fielded", CDI_devices=[cri.pb.CDIDevice(name="example.com/test=ctl")],
                     annotations={"cdi.k8s.io/extra": "example.com/test=ro"})
        cri.rt.StartContainer(cri.pb.StartContainerRequest(container_id=cid), timeout=60)
        assert isula("wait", cid).stdout.strip() == "0"
        out = isula.ok("logs", cid)
        assert_ctl_device(out)
        assert out.splitlines()[6] == "%x:%x" % host_numbers(LOOP_CONTROL)  # the annotation's device too

        with pytest.raises(grpc.RpcError) as e:
            create("unknown", CDI_devices=[cri.pb.CDIDevice(name="example.com/test=nope")])
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "unresolvable CDI device `example.com/test=nope`" in e.value.details()
        with pytest.raises(grpc.RpcError) as e:
            create("badname", annotations={"cdi.k8s.io/x": "example.com/test=ctl, not-a-name"})
        assert "invalid CDI device name `not-a-name`" in e.value.details()
    finally:
        cri.rt.RemovePodSandbox(cri.pb.RemovePodSandboxRequest(pod_sandbox_id=pod), timeout=120)


# ---- CDI off, options ----

def test_cdi_disabled_refuses_the_request(daemon):
    """The session daemon runs without enable-cdi."""
    client = docker.DockerClient(base_url="unix://" + daemon.sock, version="1.41", timeout=60)
    try:
        assert client.info()["CDISpecDirs"] == []
    finally:
        client.close()
    r = Isula(daemon)("create", "--device", "example.com/test=ctl", "busybox", "true")
    assert r.returncode == 125
    assert r.stderr.strip() == ("Error response from daemon: CDI device `example.com/test=ctl` requested but CDI is "
                                "disabled (start isulad with --enable-cdi)")


def test_flags_enable_cdi_and_spec_dir(new_daemon, dirs, vendor):
    dm = new_daemon(extra_args=["--enable-cdi", "--cdi-spec-dir", dirs["low"]])
    dm.start()
    out = Isula(dm).ok("run", "--rm", "--device", "example.com/test=ctl", "busybox", "sh", "-c", "echo $CDI_DEVICE")
    assert out == "ctl"


def test_relative_spec_dir_is_refused(new_daemon):
    dm = new_daemon(config={"cdi-spec-dirs": ["relative/dir"]})
    r = subprocess.run(dm.args(), capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "relative/dir" in r.stderr + r.stdout and "must be an absolute path" in r.stderr + r.stdout


def test_help_lists_the_options():
    out = subprocess.run([bin_path("isulad"), "--help"], capture_output=True, text=True).stdout
    assert "--enable-cdi" in out and "--cdi-spec-dir" in out
