"""Namespace modes (--net, --ipc, --pid, --uts): private, host (the daemon's own namespaces, never pid 1's) and
container:<id|name> (the other container's, which must be running), from isula and from the docker CLI.

Each test compares what the kernel says: readlink /proc/1/ns/<type> inside the containers and of the daemon.
"""
import os
import subprocess
import uuid

import pytest

DOCKER = "/usr/local/bin/docker"
NS = ("net", "ipc", "pid", "uts")


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def ns_of(isula, ref, kind, pid="1"):
    return isula.ok("exec", ref, "readlink", "/proc/%s/ns/%s" % (pid, kind))


def daemon_ns(daemon, kind):
    return os.readlink("/proc/%d/ns/%s" % (daemon.proc.pid, kind))


@pytest.fixture
def running(isula, container):
    def make(*args):
        name = uniq("it-ns")
        container("run", "-d", "--name", name, *args, "busybox", "sleep", "300")
        return name

    return make


def test_private_namespaces_differ_from_the_daemon_and_between_containers(isula, daemon, running):
    a, b = running(), running()
    for kind in NS:
        na, nb = ns_of(isula, a, kind), ns_of(isula, b, kind)
        assert na != nb, kind
        assert na != daemon_ns(daemon, kind), kind


def test_host_modes_are_the_daemons_own_namespaces(isula, daemon, running):
    c = running("--net", "host", "--ipc", "host", "--pid", "host", "--uts", "host")
    for kind in NS:
        # in the host pid namespace the container's init is not pid 1: look at the shell itself
        assert ns_of(isula, c, kind, pid="self") == daemon_ns(daemon, kind), kind


def test_container_modes_join_the_other_containers_namespaces(isula, daemon, running):
    a = running("--hostname", "peerhost")
    a_id = isula.inspect(a)["Id"]
    b = running("--net", "container:" + a, "--ipc", "container:" + a_id, "--pid", "container:" + a,
                "--uts", "container:" + a_id[:12])
    for kind in NS:
        assert ns_of(isula, b, kind, pid="self") == ns_of(isula, a, kind), kind
        assert ns_of(isula, b, kind, pid="self") != daemon_ns(daemon, kind), kind
    assert isula.ok("exec", b, "hostname") == "peerhost"


def test_net_and_ipc_of_another_container_together(isula, running):
    """Used to fail on a UTS check: the network peer's hostname comes along, in a private UTS namespace."""
    a = running("--hostname", "withnet")
    b = running("--net", "container:" + a, "--ipc", "container:" + a)
    assert ns_of(isula, b, "net") == ns_of(isula, a, "net")
    assert ns_of(isula, b, "ipc") == ns_of(isula, a, "ipc")
    assert ns_of(isula, b, "uts") != ns_of(isula, a, "uts")
    assert isula.ok("exec", b, "hostname") == "withnet"
    assert isula.inspect(b)["Config"]["Hostname"] == "withnet"
    # same interfaces: the peer's address shows in both
    assert isula.ok("exec", b, "cat", "/proc/net/dev") == isula.ok("exec", a, "cat", "/proc/net/dev")


def test_pid_of_another_container_shows_its_processes(isula, running):
    a = running()
    isula.ok("exec", "-d", a, "sh", "-c", "exec sleep 4242")
    b = running("--pid", "container:" + a)
    ps = isula.ok("exec", b, "ps", "-o", "pid,args")
    assert "sleep 4242" in ps
    assert "sleep 300" in ps
    lines = [l.split(None, 1) for l in ps.splitlines()[1:]]
    assert ["1", "sleep 300"] in [[p, a.strip()] for p, a in lines]  # a's init is pid 1 for b too
    # stopping b ends b's processes only; a keeps running
    isula.ok("stop", "-t", "1", b)
    assert isula.inspect(a)["State"]["Running"]
    assert "sleep 300" in isula.ok("exec", a, "ps", "-o", "args")


def test_joining_a_stopped_container_fails_clearly(isula, container):
    a = uniq("it-ns-stopped")
    container("create", "--name", a, "busybox", "sleep", "300")
    for opt, what in (("--net", "network"), ("--pid", "PID"), ("--ipc", "IPC"), ("--uts", "UTS")):
        b = uniq("it-ns-join")
        container("create", "--name", b, opt, "container:" + a, "busybox", "true")
        r = isula("start", b)
        assert r.returncode != 0
        assert "cannot join %s of a non running container: %s" % (what, a) in r.stderr
        assert isula.inspect(b)["State"]["Running"] is False


def test_joining_an_unknown_container_is_refused_at_create(isula):
    r = isula("create", "--pid", "container:nosuch-" + uuid.uuid4().hex[:6], "busybox", "true")
    assert r.returncode != 0
    assert "No such container" in r.stderr


def test_hostname_conflicts_with_a_container_network(isula, running):
    a = running()
    r = isula("create", "--net", "container:" + a, "--hostname", "x", "busybox", "true")
    assert r.returncode != 0
    assert "conflicting options: hostname and the network mode" in r.stderr


@pytest.mark.skipif(not os.path.exists(DOCKER), reason="docker CLI not installed")
def test_docker_cli_container_modes(isula, daemon, running):
    a = running("--hostname", "dkpeer")
    name = uniq("dk-ns")
    env = dict(os.environ, DOCKER_CONFIG=os.path.join(daemon.base, "docker-config"))
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(k, None)

    def docker(*args):
        return subprocess.run([DOCKER, "-H", daemon.host] + list(args), capture_output=True, text=True,
                              timeout=60, env=env)

    try:
        r = docker("run", "-d", "--name", name, "--net", "container:" + a, "--pid", "container:" + a,
                   "--ipc", "container:" + a, "busybox", "sleep", "300")
        assert r.returncode == 0, r.stderr
        for kind in ("net", "ipc", "pid"):
            out = docker("exec", name, "readlink", "/proc/self/ns/" + kind)
            assert out.stdout.strip() == ns_of(isula, a, kind), kind
        assert docker("exec", name, "hostname").stdout.strip() == "dkpeer"
        hc = docker("inspect", "-f", "{{.HostConfig.PidMode}} {{.HostConfig.NetworkMode}}", name).stdout.split()
        assert hc == ["container:" + a, "container:" + a]
        host = docker("run", "--rm", "--pid", "host", "--net", "host", "busybox", "sh", "-c",
                      "readlink /proc/self/ns/pid; readlink /proc/self/ns/net")
        assert host.returncode == 0, host.stderr
        assert host.stdout.split() == [daemon_ns(daemon, "pid"), daemon_ns(daemon, "net")]
    finally:
        docker("rm", "-f", name)


@pytest.fixture
def nets(isula):
    from test_network import Nets
    n = Nets(isula)
    yield n
    n.cleanup()


def test_net_container_of_a_container_on_a_user_network_joins_its_pinned_netns(isula, nets):
    net, _, _ = nets.network()
    x, y = nets.name(), nets.name()
    isula.ok("run", "-d", "--name", x, "--net", net, "busybox", "sleep", "300")
    isula.ok("run", "-d", "--name", y, "--net", "container:" + x, "busybox", "sleep", "300")
    ins = isula.inspect(x)
    pinned = os.stat(ins["NetworkSettings"]["SandboxKey"]).st_ino
    assert ns_of(isula, y, "net") == ns_of(isula, x, "net") == "net:[%d]" % pinned
    ip = ins["NetworkSettings"]["Networks"][net]["IPAddress"]
    assert ip in isula.ok("exec", y, "ip", "-4", "addr")


def test_docker_sdk_container_modes(isula, daemon, running):
    docker = pytest.importorskip("docker")
    a = running("--hostname", "sdkpeer")
    client = docker.DockerClient(base_url=daemon.host, version="1.41")
    out = client.containers.run("busybox", ["sh", "-c", "readlink /proc/self/ns/net; readlink /proc/self/ns/pid; hostname"],
                                network_mode="container:" + a, pid_mode="container:" + a, remove=True)
    assert out.decode().split() == [ns_of(isula, a, "net"), ns_of(isula, a, "pid"), "sdkpeer"]
    c = client.containers.create("busybox", ["true"], ipc_mode="container:" + a, uts_mode="host")
    try:
        assert c.attrs["HostConfig"]["IpcMode"] == "container:" + a
        isula.ok("stop", "-t", "1", a)
        with pytest.raises(docker.errors.APIError) as e:
            c.start()
        assert "cannot join IPC of a non running container" in str(e.value)
    finally:
        c.remove(force=True)


def test_ipc_of_another_container_shares_its_dev_shm(isula, daemon, running):
    a = running()
    isula.ok("exec", a, "sh", "-c", "echo from-a >/dev/shm/a-file")
    b = running("--ipc", "container:" + a)
    assert isula.ok("exec", b, "cat", "/dev/shm/a-file") == "from-a"
    isula.ok("exec", b, "sh", "-c", "echo from-b >/dev/shm/b-file")
    assert isula.ok("exec", a, "cat", "/dev/shm/b-file") == "from-b"
    # the host-side attachment used for the start is gone; a private container keeps its own /dev/shm
    b_id = isula.inspect(b)["Id"]
    assert not [l for l in open("/proc/mounts") if l.split()[1].endswith(b_id + "/shm")]
    c = running()
    assert isula("exec", c, "cat", "/dev/shm/a-file").returncode != 0
