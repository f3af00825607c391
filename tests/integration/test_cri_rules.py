"""The guide's per-message and per-method CRI rules (spec rows CRI-M*, CRI-R*, CRI-I*), each test citing the rows
it checks. Where the guide and kubelet/containerd disagree the CRI follows kubelet (docs/design/cri.md, "Audit").
The module's daemon and client come from test_cri's fixtures."""
import os
import uuid

import grpc
import pytest

from registry import Registry, busybox_layer, push_image, start_daemon, stop_daemon
from test_cri import (  # noqa: F401  (fixtures)
    Cri, PodNet, cni_bin, cni_dir, cri, ctr_config, ctr_status, isula, needs_cni, pause_ref, pod_status, podnet,
    pods, reg, rpc_error, write_bridge_conf)


@pytest.fixture(scope="module")
def basic_reg():
    """A registry asking for a password (plain HTTP)."""
    r = Registry("basic")
    yield r
    r.stop()


@pytest.fixture(scope="module")
def d(reg, basic_reg, cni_dir, pause_ref, cni_bin):
    """test_cri's daemon, also trusting basic_reg over plain HTTP."""
    import shutil
    import tempfile
    sock_dir = tempfile.mkdtemp(prefix="isd-cri-", dir="/tmp")
    import shutil as sh
    dm = start_daemon(insecure=[reg.host, basic_reg.host],
                      conf={"runtimes": {"cri05-alt": {"path": sh.which("runc")}}},
                      args=["--cri-socket", os.path.join(sock_dir, "cri.sock"), "--cni-conf-dir", cni_dir,
                            "--pod-sandbox-image", pause_ref, "--cni-bin-dir", cni_bin])
    dm.cri_sock = os.path.join(sock_dir, "cri.sock")
    yield dm
    stop_daemon(dm)
    shutil.rmtree(sock_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def pause(reg, pause_ref):
    push_image(reg.url, "cri-pause", tag="1", layers=[busybox_layer()], cmd=("/bin/sleep", "2147483647"))
    return pause_ref


def create(cri, pod, cfg):
    return cri.rt.CreateContainer(cri.pb.CreateContainerRequest(pod_sandbox_id=pod, config=cfg),
                                  timeout=60).container_id


def start(cri, pod, cfg):
    cid = create(cri, pod, cfg)
    cri.rt.StartContainer(cri.pb.StartContainerRequest(container_id=cid), timeout=60)
    return cid


def wait_exited(cri, cid):
    """The container's status once it has exited (ContainerStatus polled; no fixed sleeps)."""
    for _ in range(600):
        st = ctr_status(cri, cid)
        if st.state == cri.pb.CONTAINER_EXITED:
            return st
        import time
        time.sleep(0.1)
    raise AssertionError("container %s did not exit" % cid)


def stop(cri, cid, timeout=0):
    cri.rt.StopContainer(cri.pb.StopContainerRequest(container_id=cid, timeout=timeout), timeout=120)


def names(isula):
    return isula.ok("ps", "-a").split()


# ---- names (CRI-M12, CRI-M24, CRI-R01, CRI-R06) ----

@needs_cni
def test_metadata_with_underscore_is_refused(cri, isula, podnet, pods, pause):
    # CRI-R01/CRI-M12: the sandbox name joins the metadata with `_`, so `_` is refused and nothing is made
    for meta in ({"name": "bad_name", "namespace": "it", "uid": uuid.uuid4().hex},
                 {"name": "ok", "namespace": "bad_ns", "uid": uuid.uuid4().hex},
                 {"name": "ok", "namespace": "it", "uid": "bad_uid"}):
        cfg = cri.pb.PodSandboxConfig(metadata=cri.pb.PodSandboxMetadata(**meta))
        e = rpc_error(cri.rt.RunPodSandbox, cri.pb.RunPodSandboxRequest(config=cfg))
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "_" in e.details()
        assert not [n for n in names(isula) if "bad_" in n or "_bad" in n]
    # CRI-R06/CRI-M24: the same for a container's name
    pid = pods("underscore")
    e = rpc_error(cri.rt.CreateContainer, cri.pb.CreateContainerRequest(
        pod_sandbox_id=pid, config=ctr_config(cri, "bad_ctr", ["true"])))
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "bad_ctr" in e.details()
    assert not [n for n in names(isula) if "bad_ctr" in n]
    # names with `-` and `.` (what kubelet sends) are fine and listed
    cid = create(cri, pid, ctr_config(cri, "good-ctr.1", ["true"]))
    listed = cri.rt.ListContainers(cri.pb.ListContainersRequest(filter=cri.pb.ContainerFilter(pod_sandbox_id=pid)),
                                   timeout=30).containers
    assert [(c.id, c.metadata.name) for c in listed] == [(cid, "good-ctr.1")]


# ---- stop and remove (CRI-R02, CRI-R03, CRI-R04, CRI-R08, CRI-R09, CRI-R11) ----

@needs_cni
def test_stop_and_remove_container_rules(cri, isula, podnet, pods, pause):
    pid = pods("stoprm")
    # `sleep` as pid 1 ignores SIGTERM: only the SIGKILL of a force-stop ends it
    cid = start(cri, pid, ctr_config(cri, "stubborn", ["sleep", "100000"]))
    stop(cri, cid, timeout=0)  # CRI-R08: timeout 0 force-stops at once
    st = ctr_status(cri, cid)
    assert st.state == cri.pb.CONTAINER_EXITED and st.exit_code == 137 and st.finished_at > 0
    stop(cri, cid, timeout=0)  # CRI-R08: stopping a stopped container is not an error
    stop(cri, cid, timeout=30)
    never = create(cri, pid, ctr_config(cri, "never", ["true"]))
    stop(cri, never)  # CRI-R08: a created, never started one too
    # CRI-R09: a running container is force-stopped and removed; removing it again is not an error
    running = start(cri, pid, ctr_config(cri, "running", ["sleep", "100000"]))
    for c in (cid, never, running, running):
        cri.rt.RemoveContainer(cri.pb.RemoveContainerRequest(container_id=c), timeout=120)
    cri.rt.RemoveContainer(cri.pb.RemoveContainerRequest(container_id="no-such-container"), timeout=30)
    assert isula("inspect", running).returncode != 0
    # CRI-R11: the status of a gone container is an error; stopping one is NOT_FOUND
    assert rpc_error(cri.rt.ContainerStatus, cri.pb.ContainerStatusRequest(container_id=cid)).code() == \
        grpc.StatusCode.NOT_FOUND
    assert rpc_error(cri.rt.StopContainer, cri.pb.StopContainerRequest(container_id=cid)).code() == \
        grpc.StatusCode.NOT_FOUND


@needs_cni
def test_stop_and_remove_pod_sandbox_rules(cri, isula, podnet, pods, pause):
    pid = pods("stoppod")
    c1 = start(cri, pid, ctr_config(cri, "one", ["sleep", "100000"]))
    c2 = start(cri, pid, ctr_config(cri, "two", ["sleep", "100000"]))
    # CRI-R02: StopPodSandbox force-stops the running containers (pid 1 `sleep` ignores SIGTERM) and the sandbox
    cri.rt.StopPodSandbox(cri.pb.StopPodSandboxRequest(pod_sandbox_id=pid), timeout=120)
    for c in (c1, c2):
        st = ctr_status(cri, c)
        assert st.state == cri.pb.CONTAINER_EXITED and st.exit_code == 137
    assert pod_status(cri, pid).state == cri.pb.SANDBOX_NOTREADY
    cri.rt.StopPodSandbox(cri.pb.StopPodSandboxRequest(pod_sandbox_id=pid), timeout=120)  # again: no error
    # CRI-R03: removal takes the containers; removing a gone sandbox is not an error
    cri.rt.RemovePodSandbox(cri.pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=120)
    assert all(isula("inspect", x).returncode != 0 for x in (pid, c1, c2))
    cri.rt.RemovePodSandbox(cri.pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=120)
    cri.rt.RemovePodSandbox(cri.pb.RemovePodSandboxRequest(pod_sandbox_id="no-such-pod"), timeout=30)
    # CRI-R04: the status of a gone sandbox is an error
    e = rpc_error(cri.rt.PodSandboxStatus, cri.pb.PodSandboxStatusRequest(pod_sandbox_id=pid))
    assert e.code() == grpc.StatusCode.NOT_FOUND


# ---- ContainerConfig (CRI-M28, CRI-M45) ----

@needs_cni
def test_command_and_args_default_to_the_image(cri, isula, podnet, pods, pause):
    """CRI-M45: the guide's default command is /bin/sh; kubelet's rule (as containerd's) is the image's
    Entrypoint/Cmd: `command` replaces the Entrypoint and drops the image's Cmd, `args` replace the Cmd."""
    pid = pods("cmd")
    # neither: the image's own command (the pause image's sleep), not a shell that would exit at once
    c = start(cri, pid, cri.pb.ContainerConfig(metadata=cri.pb.ContainerMetadata(name="dflt"),
                                               image=cri.pb.ImageSpec(image=pause)))
    assert ctr_status(cri, c).state == cri.pb.CONTAINER_RUNNING
    assert isula.inspect(c)["Path"] == "/bin/sleep"
    # command alone: the image's Cmd is not appended ($# counts the arguments after $0)
    c = start(cri, pid, cri.pb.ContainerConfig(metadata=cri.pb.ContainerMetadata(name="cmdonly"),
                                               image=cri.pb.ImageSpec(image="busybox"),
                                               command=["sh", "-c", "exit $((40 + $#))", "zero"]))
    assert wait_exited(cri, c).exit_code == 40
    # args alone run as the command (busybox has no Entrypoint); command + args joined
    c = start(cri, pid, ctr_config(cri, "argsonly", ["sh", "-c", "exit 5"]))
    assert wait_exited(cri, c).exit_code == 5
    c = start(cri, pid, cri.pb.ContainerConfig(metadata=cri.pb.ContainerMetadata(name="both"),
                                               image=cri.pb.ImageSpec(image="busybox"),
                                               command=["sh", "-c"], args=["exit 6"]))
    assert wait_exited(cri, c).exit_code == 6
    # CRI-M45: metadata and image are required
    for cfg in (cri.pb.ContainerConfig(image=cri.pb.ImageSpec(image="busybox")),
                cri.pb.ContainerConfig(metadata=cri.pb.ContainerMetadata(name="noimage"))):
        e = rpc_error(cri.rt.CreateContainer, cri.pb.CreateContainerRequest(pod_sandbox_id=pid, config=cfg))
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT


def uid_of(isula, cid):
    with open("/proc/%d/status" % isula.inspect(cid)["State"]["Pid"]) as f:
        return [ln.split()[1] for ln in f if ln.startswith("Uid:")][0]


@needs_cni
def test_run_as_username(cri, isula, podnet, pods, pause):
    pid = pods("runas")

    def cfg(name, **sc):
        return ctr_config(cri, name, ["sleep", "1000"], linux=cri.pb.LinuxContainerConfig(
            security_context=cri.pb.LinuxContainerSecurityContext(**sc)))

    # CRI-M28: a name in the image's /etc/passwd; it wins over run_as_user
    c = start(cri, pid, cfg("byname", run_as_username="nobody"))
    assert uid_of(isula, c) == "65534"
    c = start(cri, pid, cfg("both", run_as_username="nobody", run_as_user=cri.pb.Int64Value(value=1234)))
    assert uid_of(isula, c) == "65534"
    c = start(cri, pid, cfg("byuid", run_as_user=cri.pb.Int64Value(value=1234)))
    assert uid_of(isula, c) == "1234"
    # CRI-M28: a name the image does not have is an error (at CreateContainer or at the latest StartContainer)
    with pytest.raises(grpc.RpcError) as e:
        start(cri, pid, cfg("ghost", run_as_username="no-such-user"))
    assert "no-such-user" in e.value.details()


# ---- filters (CRI-M20, CRI-M27, CRI-M37, CRI-R05, CRI-R10, CRI-R17) ----

@needs_cni
def test_container_filters_are_exact_and_anded(cri, podnet, pods, pause):
    p1 = pods("filt-a", labels={"env": "it"})
    p2 = pods("filt-b")
    a = start(cri, p1, ctr_config(cri, "a", ["sleep", "1000"], labels={"app": "web", "tier": "front"}))
    b = create(cri, p1, ctr_config(cri, "b", ["sleep", "1000"], labels={"app": "web", "tier": "back"}))
    c = start(cri, p2, ctr_config(cri, "c", ["sleep", "1000"], labels={"app": "web", "tier": "front"}))

    def ids(**f):
        return {x.id for x in cri.rt.ListContainers(cri.pb.ListContainersRequest(
            filter=cri.pb.ContainerFilter(**f)), timeout=30).containers}

    running = cri.pb.ContainerStateValue(state=cri.pb.CONTAINER_RUNNING)
    created = cri.pb.ContainerStateValue(state=cri.pb.CONTAINER_CREATED)
    assert ids(label_selector={"app": "web"}) >= {a, b, c}
    assert ids(label_selector={"app": "web", "tier": "front"}) >= {a, c}
    assert b not in ids(label_selector={"app": "web", "tier": "front"})
    assert ids(label_selector={"app": "we"}) == set()  # exact, no prefix
    assert ids(label_selector={"app": "w.*"}) == set()  # no regex
    assert ids(pod_sandbox_id=p1, label_selector={"tier": "front"}) == {a}
    assert ids(pod_sandbox_id=p1, state=running) == {a}
    assert ids(pod_sandbox_id=p1, state=created) == {b}
    assert ids(id=a[:12], pod_sandbox_id=p1) == {a}
    assert ids(id=a, pod_sandbox_id=p2) == set()
    assert ids(id=b, state=running) == set()
    # CRI-M20: pod label selectors are exact as well
    pids = {x.id for x in cri.rt.ListPodSandbox(cri.pb.ListPodSandboxRequest(
        filter=cri.pb.PodSandboxFilter(label_selector={"env": "i"})), timeout=30).items}
    assert pids == set()

    # CRI-M37: stats filters likewise (running containers only)
    def sids(**f):
        return {x.attributes.id for x in cri.rt.ListContainerStats(cri.pb.ListContainerStatsRequest(
            filter=cri.pb.ContainerStatsFilter(**f)), timeout=60).stats}

    assert sids(label_selector={"app": "web", "tier": "front"}) >= {a, c}
    assert sids(pod_sandbox_id=p1, label_selector={"app": "web"}) == {a}
    assert sids(id=c, pod_sandbox_id=p1) == set()
    assert sids(label_selector={"tier": "fron"}) == set()


# ---- stats (CRI-M38, CRI-M42, CRI-R16, CRI-R17) ----

@needs_cni
def test_writable_layer_in_container_stats(cri, isula, podnet, pods, pause):
    pid = pods("rwstats")
    cid = start(cri, pid, ctr_config(cri, "writer", ["sh", "-c", "mkdir /data && head -c 3000000 /dev/zero > "
                                                     "/data/big && for i in 1 2 3 4 5 6 7 8 9 10; do "
                                                     "echo $i > /data/f$i; done && touch /data/done && "
                                                     "exec sleep 100000"]))
    r = cri.rt.ExecSync(cri.pb.ExecSyncRequest(container_id=cid, cmd=["sh", "-c", "while [ ! -e /data/done ]; "
                                                                       "do sleep 0.1; done"], timeout=60),
                        timeout=90)
    assert r.exit_code == 0
    st = cri.rt.ContainerStats(cri.pb.ContainerStatsRequest(container_id=cid), timeout=60).stats
    wl = st.writable_layer
    # CRI-M42: the upper directory is the storage id; its bytes and inodes
    assert os.path.isfile(os.path.join(wl.fs_id.mountpoint, "data", "big"))
    assert wl.timestamp > 0
    assert wl.used_bytes.value >= 3000000
    assert wl.inodes_used.value >= 12  # data/, big, f1..f10, done
    listed = cri.rt.ListContainerStats(cri.pb.ListContainerStatsRequest(
        filter=cri.pb.ContainerStatsFilter(id=cid)), timeout=60).stats
    assert [s.attributes.id for s in listed] == [cid]
    assert listed[0].writable_layer.fs_id.mountpoint == wl.fs_id.mountpoint
    assert listed[0].writable_layer.inodes_used.value >= 12


# ---- updates and runtime config (CRI-R12, CRI-R18, CRI-R19) ----

@needs_cni
def test_update_leaves_the_oom_score_alone(cri, isula, podnet, pods, pause):
    from test_resources import cg_read
    pid = pods("oomupd")
    cid = start(cri, pid, ctr_config(cri, "upd", ["sleep", "1000"]))
    cpid = isula.inspect(cid)["State"]["Pid"]
    with open("/proc/%d/oom_score_adj" % cpid) as f:
        before = f.read().strip()
    # CRI-R12: oom_score_adj is not updated (kubelet sends it in every resize: accepted, the rest applied)
    new = cri.pb.LinuxContainerResources(memory_limit_in_bytes=96 << 20, oom_score_adj=777)
    cri.rt.UpdateContainerResources(cri.pb.UpdateContainerResourcesRequest(container_id=cid, linux=new), timeout=60)
    assert cg_read(cpid, "memory", "memory.limit_in_bytes") == str(96 << 20)
    with open("/proc/%d/oom_score_adj" % cpid) as f:
        assert f.read().strip() == before
    # CRI-R12: a sandbox is not a container to update
    e = rpc_error(cri.rt.UpdateContainerResources, cri.pb.UpdateContainerResourcesRequest(container_id=pid,
                                                                                           linux=new))
    assert e.code() == grpc.StatusCode.NOT_FOUND


def test_update_runtime_config_only_logs(cri, d):
    # CRI-R18: accepted, written to the log, nothing else
    cidr = "10.%d.0.0/16" % (uuid.uuid4().int % 200 + 20)
    cfg = cri.pb.RuntimeConfig(network_config=cri.pb.NetworkConfig(pod_cidr=cidr))
    cri.rt.UpdateRuntimeConfig(cri.pb.UpdateRuntimeConfigRequest(runtime_config=cfg), timeout=30)
    with open(d.log, errors="replace") as f:
        assert "UpdateRuntimeConfig: pod CIDR `%s`" % cidr in f.read()


@needs_cni
def test_status_reload_keeps_working_networks(cri, podnet, pods, pause, cni_dir):
    # CRI-R19: Status reads the network configuration again at each call; a broken file is skipped and the
    # networks that load stay in use (NetworkReady, pods on the default network)
    bad = os.path.join(cni_dir, "000-broken.conflist")
    with open(bad, "w") as f:
        f.write("{ not json")
    try:
        conds = {c.type: c for c in cri.rt.Status(cri.pb.StatusRequest(), timeout=30).status.conditions}
        assert conds["RuntimeReady"].status and conds["NetworkReady"].status
        pid = pods("reload")
        assert pod_status(cri, pid).network.ip
    finally:
        os.unlink(bad)


# ---- streaming requests (CRI-R14) ----

@needs_cni
def test_exec_request_rules(cri, podnet, pods, pause):
    pid = pods("execrules")
    cid = start(cri, pid, ctr_config(cri, "sh", ["sleep", "1000"]))
    # CRI-R14: at least one stream; a tty has no separate stderr (kubelet clears it; the CRI says MUST be false)
    e = rpc_error(cri.rt.Exec, cri.pb.ExecRequest(container_id=cid, cmd=["true"]))
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
    e = rpc_error(cri.rt.Exec, cri.pb.ExecRequest(container_id=cid, cmd=["true"], tty=True, stdout=True,
                                                  stderr=True))
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "stderr" in e.details()
    url = cri.rt.Exec(cri.pb.ExecRequest(container_id=cid, cmd=["true"], tty=True, stdout=True), timeout=30).url
    assert url.startswith("http://127.0.0.1:")


# ---- seccomp_profile_path (CRI-M10, CRI-M28) ----

@needs_cni
def test_seccomp_profile_path_forms(cri, isula, podnet, pods, pause, tmp_path):
    import json
    prof = tmp_path / "no-mkdir.json"
    prof.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW",
                                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}))
    # CRI-M10: the sandbox's default is unconfined; `<full path>` is a form of the profile path as well
    pid = pods("secpath")
    with open("/proc/%d/status" % isula.inspect(pid)["State"]["Pid"]) as f:
        assert [ln.split()[1] for ln in f if ln.startswith("Seccomp:")] == ["0"]
    for name, path in (("abs", str(prof)), ("local", "localhost/" + str(prof))):
        cid = start(cri, pid, ctr_config(cri, name, ["sleep", "1000"], linux=cri.pb.LinuxContainerConfig(
            security_context=cri.pb.LinuxContainerSecurityContext(seccomp_profile_path=path))))
        r = cri.rt.ExecSync(cri.pb.ExecSyncRequest(container_id=cid, cmd=["mkdir", "/tmp/x"]), timeout=60)
        assert r.exit_code != 0 and b"not permitted" in r.stderr, name
    plain = start(cri, pid, ctr_config(cri, "plain", ["sleep", "1000"]))  # CRI-M28: no security context at all
    with open("/proc/%d/status" % isula.inspect(plain)["State"]["Pid"]) as f:
        assert [ln.split()[1] for ln in f if ln.startswith("Seccomp:")] == ["0"]


# ---- images (CRI-M34, CRI-I02, CRI-I03, CRI-I04) ----

def test_pull_with_auth_config(cri, isula, basic_reg):
    import base64
    ref = "%s/cri-auth:v1" % basic_reg.host
    push_image(registry=basic_reg, name="cri-auth", tag="v1", layers=[busybox_layer()])

    def pull(**auth):
        return cri.im.PullImage(cri.pb.PullImageRequest(image=cri.pb.ImageSpec(image=ref),
                                                        auth=cri.pb.AuthConfig(**auth)), timeout=120).image_ref

    e = rpc_error(cri.im.PullImage, cri.pb.PullImageRequest(image=cri.pb.ImageSpec(image=ref)))
    assert e.code() != grpc.StatusCode.OK
    e = rpc_error(cri.im.PullImage, cri.pb.PullImageRequest(image=cri.pb.ImageSpec(image=ref), auth=cri.pb.AuthConfig(
        username=basic_reg.user, password="wrong")))
    assert e.code() != grpc.StatusCode.OK
    # CRI-M34/CRI-I03: username and password
    image_id = pull(username=basic_reg.user, password=basic_reg.password)
    assert image_id == isula.ok("inspect", "-f", "{{.Id}}", ref)
    # CRI-I04: removed by ID
    cri.im.RemoveImage(cri.pb.RemoveImageRequest(image=cri.pb.ImageSpec(image=image_id)), timeout=60)
    st = cri.im.ImageStatus(cri.pb.ImageStatusRequest(image=cri.pb.ImageSpec(image=ref)), timeout=30)
    assert not st.HasField("image")  # CRI-I02: a missing image is no error, the image is unset
    # CRI-M34: `auth` (base64 user:password); server_address and the tokens are accepted and ignored (CRI-05)
    b64 = base64.b64encode(("%s:%s" % (basic_reg.user, basic_reg.password)).encode()).decode()
    assert pull(auth=b64, server_address="ignored.invalid", identity_token="x", registry_token="y") == image_id
    cri.im.RemoveImage(cri.pb.RemoveImageRequest(image=cri.pb.ImageSpec(image=ref)), timeout=60)


# ---- iSulad's annotation (CRI-R06) ----

@needs_cni
def test_pids_max_annotation(cri, isula, podnet, pods, pause):
    from test_resources import cg_read
    pid = pods("pidsmax")
    for value, want in (("20", "20"), ("-1", "max")):
        cid = start(cri, pid, ctr_config(cri, "pids" + value.replace("-", "m"), ["sleep", "1000"],
                                         annotations={"cgroup.pids.max": value}))
        assert cg_read(isula.inspect(cid)["State"]["Pid"], "pids", "pids.max") == want, value
    for value in ("abc", "0", "-2", ""):
        e = rpc_error(cri.rt.CreateContainer, cri.pb.CreateContainerRequest(pod_sandbox_id=pid, config=ctr_config(
            cri, "badpids", ["true"], annotations={"cgroup.pids.max": value})))
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "cgroup.pids.max" in e.details(), value


@needs_cni
def test_status_verbose_info(cri, d, cni_dir, pause_ref, podnet):
    import json
    # CRI-R19: `info` only when verbose, in containerd's keys (crictl info)
    assert not cri.rt.Status(cri.pb.StatusRequest(), timeout=30).info
    info = cri.rt.Status(cri.pb.StatusRequest(verbose=True), timeout=30).info
    cfg = json.loads(info["config"])
    assert cfg["sandboxImage"] == pause_ref and cfg["cniConfDir"] == cni_dir
    cni = json.loads(info["cniconfig"])
    assert cni["PluginConfDir"] == cni_dir and cni["DefaultNetwork"] == podnet.name
    assert info["lastCNILoadStatus"] == "OK"


@needs_cni
def test_container_runs_on_its_sandboxs_runtime(cri, isula, podnet, pause):
    # CRI-R06: CreateContainer has no runtime handler: the container takes its sandbox's (CRI-R01)
    meta = cri.pb.PodSandboxMetadata(name="alt-rt", namespace="it", uid=uuid.uuid4().hex)
    pid = cri.rt.RunPodSandbox(cri.pb.RunPodSandboxRequest(config=cri.pb.PodSandboxConfig(metadata=meta),
                                                           runtime_handler="cri05-alt"), timeout=120).pod_sandbox_id
    try:
        cid = start(cri, pid, ctr_config(cri, "onalt", ["sleep", "1000"]))
        assert isula.inspect(pid)["HostConfig"]["Runtime"] == "cri05-alt"
        assert isula.inspect(cid)["HostConfig"]["Runtime"] == "cri05-alt"
        assert ctr_status(cri, cid).state == cri.pb.CONTAINER_RUNNING
    finally:
        cri.rt.RemovePodSandbox(cri.pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=120)
