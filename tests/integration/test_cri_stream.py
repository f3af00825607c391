"""The CRI streaming server: Exec, Attach and PortForward answer a one-time URL on 127.0.0.1
(--websocket-server-listening-port), served with SPDY/3.1 and WebSocket by the test clients of stream_clients.py.
The module's daemon runs pods on a bridge network the test creates, with the built-in pause image."""
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import tempfile
import uuid

import grpc
import pytest

from registry import start_daemon, stop_daemon
from stream_clients import Spdy, SpdyOverWebSocket, Ws, http_exchange, http_status, spdy_exec, status_of
from test_cri import Cri, PodNet

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/usr/lib/cni/bridge"),
                                reason="needs root and Debian's containernetworking-plugins")

EXIT3 = {"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
         "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}}


def stream_port():
    """A free port in the option's range (1024-49151)."""
    for _ in range(200):
        p = random.randint(20000, 40000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                return p
            except OSError:
                continue
    raise AssertionError("no free port")


@pytest.fixture(scope="module")
def cni_dir():
    d = tempfile.mkdtemp(prefix="isd-cristream-cni-")
    yield d
    shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(d + ".ipam", ignore_errors=True)


@pytest.fixture(scope="module")
def podnet(cni_dir):
    n = PodNet(cni_dir)
    yield n
    n.cleanup()


@pytest.fixture(scope="module")
def d(cni_dir, podnet):
    sock_dir = tempfile.mkdtemp(prefix="isd-cristream-", dir="/tmp")
    port = stream_port()
    dm = start_daemon(args=["--cri-socket", os.path.join(sock_dir, "cri.sock"), "--cni-conf-dir", cni_dir,
                            "--pod-sandbox-image", "isulad/pause:builtin",
                            "--websocket-server-listening-port", str(port)])
    dm.cri_sock = os.path.join(sock_dir, "cri.sock")
    dm.stream_port = port
    yield dm
    stop_daemon(dm)
    shutil.rmtree(sock_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def cri(d):
    c = Cri(d.cri_sock)
    yield c
    c.close()


@pytest.fixture(scope="module")
def pod(cri):
    meta = cri.pb.PodSandboxMetadata(name="stream", namespace="it", uid=uuid.uuid4().hex, attempt=0)
    cfg = cri.pb.PodSandboxConfig(metadata=meta)
    pid = cri.rt.RunPodSandbox(cri.pb.RunPodSandboxRequest(config=cfg), timeout=120).pod_sandbox_id
    yield pid, cfg
    cri.rt.RemovePodSandbox(cri.pb.RemovePodSandboxRequest(pod_sandbox_id=pid), timeout=120)


def start_ctr(cri, pod, name, args, **kw):
    pid, sbcfg = pod
    cfg = cri.pb.ContainerConfig(metadata=cri.pb.ContainerMetadata(name=name), image=cri.pb.ImageSpec(image="busybox"),
                                 args=args, **kw)
    cid = cri.rt.CreateContainer(cri.pb.CreateContainerRequest(pod_sandbox_id=pid, config=cfg, sandbox_config=sbcfg),
                                 timeout=60).container_id
    cri.rt.StartContainer(cri.pb.StartContainerRequest(container_id=cid), timeout=60)
    return cid


def host_network_sleeper(cri, name):
    """A sleeping container in a new pod on the node's network (no CNI needed): for the tests' own daemons."""
    node = cri.pb.NamespaceOption(network=cri.pb.NODE)
    meta = cri.pb.PodSandboxMetadata(name=name, namespace="it", uid=uuid.uuid4().hex, attempt=0)
    sbcfg = cri.pb.PodSandboxConfig(metadata=meta, linux=cri.pb.LinuxPodSandboxConfig(
        security_context=cri.pb.LinuxSandboxSecurityContext(namespace_options=node)))
    pid = cri.rt.RunPodSandbox(cri.pb.RunPodSandboxRequest(config=sbcfg), timeout=120).pod_sandbox_id
    return start_ctr(cri, (pid, sbcfg), "sleeper", ["sleep", "100000"])


@pytest.fixture(scope="module")
def sleeper(cri, pod):
    return start_ctr(cri, pod, "sleeper", ["sleep", "100000"])


def exec_url(cri, cid, cmd, **kw):
    kw.setdefault("stdout", True)
    kw.setdefault("stderr", not kw.get("tty", False))
    return cri.rt.Exec(cri.pb.ExecRequest(container_id=cid, cmd=cmd, **kw), timeout=30).url


def test_exec_url_is_on_the_configured_port(cri, d, sleeper):
    url = exec_url(cri, sleeper, ["true"])
    assert url.startswith("http://127.0.0.1:%d/exec/" % d.stream_port)
    assert len(url.rsplit("/", 1)[1]) >= 32


def test_exec_spdy_output_and_exit_codes(cri, sleeper):
    out, err, st = spdy_exec(exec_url(cri, sleeper, ["echo", "hello"]))
    assert (out, err) == (b"hello\n", b"")
    assert status_of(st) == {"metadata": {}, "status": "Success"}
    out, err, st = spdy_exec(exec_url(cri, sleeper, ["sh", "-c", "echo out; echo oops >&2; exit 3"]))
    assert (out, err) == (b"out\n", b"oops\n")
    s = status_of(st)
    assert {k: s[k] for k in EXIT3} == EXIT3
    # older protocols: an error text and no status JSON
    out, err, st = spdy_exec(exec_url(cri, sleeper, ["sh", "-c", "exit 3"]), protocol="v2.channel.k8s.io")
    assert b"non-zero exit code" in st and b"3" in st


def test_exec_of_a_missing_command(cri, sleeper):
    out, err, st = spdy_exec(exec_url(cri, sleeper, ["no-such-command"]))
    s = status_of(st)
    assert s["status"] == "Failure" and s["reason"] == "NonZeroExitCode"
    assert s["details"]["causes"][0]["message"] in ("126", "127") and "no-such-command" in s["message"]


def test_exec_into_a_container_stopped_since_the_call(cri, pod):
    cid = start_ctr(cri, pod, "stopped-later", ["sleep", "100000"])
    url = exec_url(cri, cid, ["echo", "never"])
    cri.rt.StopContainer(cri.pb.StopContainerRequest(container_id=cid, timeout=0), timeout=60)
    out, _, st = spdy_exec(url)
    s = status_of(st)
    assert out == b"" and s["status"] == "Failure" and s["reason"] == "InternalError"
    assert "not running" in s["message"]


def test_execs_leave_no_record(cri, d, sleeper):
    for i in range(3):
        assert spdy_exec(exec_url(cri, sleeper, ["echo", str(i)]))[0] == b"%d\n" % i
    # a client that leaves in the middle: the exec ends with its stdin, the daemon goes on
    c = Spdy(exec_url(cri, sleeper, ["cat"], stdin=True))
    c.open({"streamtype": "error"})
    c.open({"streamtype": "stdin"})
    out = c.open({"streamtype": "stdout"})
    c.open({"streamtype": "stderr"})
    c.close()
    assert spdy_exec(exec_url(cri, sleeper, ["echo", "after"]))[0] == b"after\n"
    assert os.path.isdir(os.path.join(d.state, "containers", sleeper))
    execs = os.path.join(d.state, "containers", sleeper, "exec")
    for _ in range(600):  # the left exec is dropped when its process has ended
        if not os.path.isdir(execs) or not os.listdir(execs):
            break
        c.wait(lambda: False, 0.05)
    assert not os.path.isdir(execs) or os.listdir(execs) == []
    assert out.data == b""


def test_exec_spdy_stdin_round_trip_with_flow_control(cri, sleeper):
    out, _, st = spdy_exec(exec_url(cri, sleeper, ["cat"], stdin=True), stdin=b"round trip\n")
    assert out == b"round trip\n" and status_of(st)["status"] == "Success"
    # more than the 64 KiB window of a client that keeps to windows, both ways
    big = os.urandom(700 * 1024)
    out, _, st = spdy_exec(exec_url(cri, sleeper, ["cat"], stdin=True), stdin=big, flow=True)
    assert out == big and status_of(st)["status"] == "Success"


def test_exec_spdy_tty_and_resize(cri, sleeper):
    url = exec_url(cri, sleeper, ["sh", "-c", "while read x; do stty size; done"], stdin=True, tty=True)
    c = Spdy(url)
    try:
        err = c.open({"streamtype": "error"})
        sin = c.open({"streamtype": "stdin"})
        sout = c.open({"streamtype": "stdout"})
        rs = c.open({"streamtype": "resize"})
        c.send(rs, b'{"Width":123,"Height":45}\n')
        for _ in range(50):  # the size goes by another way than the line: ask until it is seen
            c.send(sin, b"go\n")
            if c.wait(lambda: b"45 123" in sout.data or c.closed, 2):
                break
        assert b"45 123\r\n" in bytes(sout.data)  # a tty: CR LF
        c.send(rs, b'{"Width":100,"Height":30}\n')
        for _ in range(50):
            c.send(sin, b"go\n")
            if c.wait(lambda: b"30 100" in sout.data or c.closed, 2):
                break
        assert b"30 100" in bytes(sout.data)
        c.send(sin, b"\x04")  # ^D on the terminal ends `read`
        assert status_of(c.read_until_fin(err)) == {"metadata": {}, "status": "Success"}
        assert c.wait(lambda: c.goaway or c.closed)
    finally:
        c.close()


def test_exec_tty_ends_its_input_when_the_client_closes_stdin(cri, sleeper):
    # the client's FIN on stdin is the end of the terminal's input: the shim types ^D, `cat` ends, the shell goes on
    cmd = ["sh", "-c", "cat; echo done"]
    out, _, st = spdy_exec(exec_url(cri, sleeper, cmd, stdin=True, tty=True), stdin=b"one line\n", tty=True)
    assert out == b"one line\r\none line\r\ndone\r\n"  # the terminal's echo, then cat's copy
    assert status_of(st) == {"metadata": {}, "status": "Success"}
    # a line not ended: the first ^D hands it to cat, the second is the end of the input
    out, _, st = spdy_exec(exec_url(cri, sleeper, cmd, stdin=True, tty=True), stdin=b"no newline", tty=True)
    assert out == b"no newlineno newlinedone\r\n"
    assert status_of(st) == {"metadata": {}, "status": "Success"}
    # no input at all: one ^D ends cat's input; the exit code is the process's
    cmd = ["sh", "-c", "cat; echo done; exit 3"]
    out, _, st = spdy_exec(exec_url(cri, sleeper, cmd, stdin=True, tty=True), stdin=b"", tty=True)
    assert out == b"done\r\n"
    s = status_of(st)
    assert {k: s[k] for k in EXIT3} == EXIT3


def test_exec_tty_stdin_closed_over_websocket_v5(cri, sleeper):
    w = Ws(exec_url(cri, sleeper, ["sh", "-c", "cat; echo done"], stdin=True, tty=True), "v5.channel.k8s.io")
    w.send(0, b"over websocket\n")
    w.ws.send_binary(b"\xff\x00")  # v5: the client closes stdin
    ch = w.read_all()
    assert ch.get(1) == b"over websocket\r\nover websocket\r\ndone\r\n"
    assert status_of(ch[3]) == {"metadata": {}, "status": "Success"}


def test_exec_without_tty_ends_stdin_when_the_client_closes_it(cri, sleeper):
    cmd = ["sh", "-c", "cat; echo done"]
    out, _, st = spdy_exec(exec_url(cri, sleeper, cmd, stdin=True), stdin=b"piped\n")
    assert out == b"piped\ndone\n" and status_of(st) == {"metadata": {}, "status": "Success"}
    w = Ws(exec_url(cri, sleeper, cmd, stdin=True), "v5.channel.k8s.io")
    w.send(0, b"no newline")
    w.ws.send_binary(b"\xff\x00")
    ch = w.read_all()
    assert ch.get(1) == b"no newlinedone\n" and status_of(ch[3])["status"] == "Success"


def docker_exec_create(d, cid, body):
    """POST /containers/{id}/exec on the daemon's Docker API socket; answers the exec's id."""
    req = json.dumps(body).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(d.sock)
        s.sendall(b"POST /v1.43/containers/%s/exec HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (cid.encode(), len(req)) + req)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 201"), data
    return json.loads(body)["Id"]


def docker_exec_tty_half_closed(d, cid, cmd, stdin):
    """A Docker API tty exec (hijacked start) whose client sends stdin, waits for its echo and cat's copy, then shuts
    down its sending side; answers the raw output up to the daemon's end of the connection."""
    exec_id = docker_exec_create(d, cid, {"Cmd": cmd, "AttachStdin": True, "AttachStdout": True, "Tty": True})
    body = json.dumps({"Detach": False, "Tty": True}).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(d.sock)
        s.sendall(b"POST /v1.43/exec/%s/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                  b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (exec_id.encode(), len(body))
                  + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            assert chunk, data
            data += chunk
        s.sendall(stdin)
        while data.partition(b"\r\n\r\n")[2].count(stdin.rstrip(b"\n")) < 2:
            chunk = s.recv(65536)
            assert chunk, data
            data += chunk
        s.shutdown(socket.SHUT_WR)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.partition(b"\r\n\r\n")[2]


def test_docker_api_tty_exec_keeps_its_input_open(cri, d, pod):
    # Docker's rule stays for the Docker API: a tty client that leaves does not end the process's input
    cid = start_ctr(cri, pod, "docker-tty", ["sleep", "100000"])
    tag = uuid.uuid4().hex[:12]
    out = docker_exec_tty_half_closed(d, cid, ["cat", "-", tag], b"typed\n")
    assert out == b"typed\r\ntyped\r\n"
    # the same cat still reads its terminal (with a ^D it would have gone on to the missing file and ended)
    r = cri.rt.ExecSync(cri.pb.ExecSyncRequest(container_id=cid, cmd=["ps", "-o", "pid,args"], timeout=30), timeout=60)
    pids = [ln.split()[0] for ln in r.stdout.decode().splitlines() if ln.endswith("cat - " + tag)]
    assert len(pids) == 1, r.stdout
    r = cri.rt.ExecSync(cri.pb.ExecSyncRequest(container_id=cid, cmd=["kill", pids[0]], timeout=30), timeout=60)
    assert r.exit_code == 0


def test_exec_spdy_ping_and_unknown_stream_type(cri, sleeper):
    c = Spdy(exec_url(cri, sleeper, ["echo", "x"]))
    try:
        c.ping(7)
        assert c.wait(lambda: 7 in getattr(c, "pings", []))
        bogus = c.open({"streamtype": "nonsense"})
        assert bogus.reset and not bogus.replied
    finally:
        c.close()


def test_exec_websocket_channels(cri, sleeper):
    w = Ws(exec_url(cri, sleeper, ["sh", "-c", "echo out; echo oops >&2; exit 3"]), "v4.channel.k8s.io")
    assert w.ws.subprotocol == "v4.channel.k8s.io"
    ch = w.read_all()
    assert ch.get(1) == b"out\n" and ch.get(2) == b"oops\n"
    s = status_of(ch[3])
    assert {k: s[k] for k in EXIT3} == EXIT3
    # v5: stdin closed by the close signal (channel 255)
    w = Ws(exec_url(cri, sleeper, ["cat"], stdin=True), "v5.channel.k8s.io")
    w.send(0, b"over websocket\n")
    w.ws.send_binary(b"\xff\x00")
    ch = w.read_all()
    assert ch.get(1) == b"over websocket\n" and status_of(ch[3])["status"] == "Success"
    # base64: text messages, the channel an ASCII digit
    w = Ws(exec_url(cri, sleeper, ["echo", "b64"]), "base64.channel.k8s.io")
    assert w.read_all().get(1) == b"b64\n"
    # channel.k8s.io (v1): the error channel carries only an error text
    w = Ws(exec_url(cri, sleeper, ["sh", "-c", "exit 3"]), "channel.k8s.io")
    assert b"non-zero exit code" in w.read_all().get(3, b"")


def test_exec_websocket_tty_resize(cri, sleeper):
    w = Ws(exec_url(cri, sleeper, ["sh", "-c", "while read x; do stty size; done"], stdin=True, tty=True),
           "v4.channel.k8s.io")
    try:
        w.send(4, b'{"Width":77,"Height":22}')
        seen = b""
        for _ in range(50):
            w.send(0, b"go\n")
            while b"\n" not in seen.split(b"go", 1)[-1]:
                chn, data = w.recv_one()
                if chn == 1:
                    seen += data
            if b"22 77" in seen:
                break
            seen = b""
        assert b"22 77" in seen
    finally:
        w.close()


def test_attach_spdy(cri, pod):
    cid = start_ctr(cri, pod, "catter", ["cat"], stdin=True)
    url = cri.rt.Attach(cri.pb.AttachRequest(container_id=cid, stdin=True, stdout=True, stderr=True), timeout=30).url
    assert "/attach/" in url
    c = Spdy(url)
    try:
        err = c.open({"streamtype": "error"})
        sin = c.open({"streamtype": "stdin"})
        sout = c.open({"streamtype": "stdout"})
        c.open({"streamtype": "stderr"})
        c.send(sin, b"ping through attach\n")
        assert c.wait(lambda: b"ping through attach\n" in sout.data)
        c.send(sin, b"", fin=True)  # cat ends with its stdin, and so does the container
        assert c.read_until_fin(sout) == b"ping through attach\n"
        assert status_of(c.read_until_fin(err)) == {"metadata": {}, "status": "Success"}
    finally:
        c.close()
    for _ in range(600):  # the daemon records the exit on its own thread
        st = cri.rt.ContainerStatus(cri.pb.ContainerStatusRequest(container_id=cid), timeout=30).status
        if st.state == cri.pb.CONTAINER_EXITED:
            break
        c.wait(lambda: False, 0.05)
    assert st.state == cri.pb.CONTAINER_EXITED and st.exit_code == 0


def test_attach_websocket_tty(cri, pod):
    cid = start_ctr(cri, pod, "ttycat", ["sh"], stdin=True, tty=True)
    url = cri.rt.Attach(cri.pb.AttachRequest(container_id=cid, stdin=True, stdout=True, tty=True), timeout=30).url
    w = Ws(url, "v4.channel.k8s.io")
    try:
        w.send(0, b"echo attached-$((6*7))\n")
        seen = b""
        while b"attached-42" not in seen:
            chn, data = w.recv_one()
            seen += data if chn == 1 else b""
    finally:
        w.close()


HTTPD = ["sh", "-c", "mkdir -p /www && echo hello from the pod > /www/index.html && exec httpd -f -p 8080 -h /www"]


@pytest.fixture(scope="module")
def httpd(cri, pod):
    return start_ctr(cri, pod, "httpd", HTTPD)


def spdy_forward(c, port, rid, payload):
    """One forwarded connection on an open port-forward session: (reply bytes, error text)."""
    err = c.open({"streamtype": "error", "port": str(port), "requestid": str(rid)})
    data = c.open({"streamtype": "data", "port": str(port), "requestid": str(rid)})
    c.send(data, payload, fin=True)
    out = c.read_until_fin(data)
    c.wait(lambda: err.fin or err.reset or c.closed)
    return out, bytes(err.data)


def check_httpd_forwards(c):
    """Over a port-forward session c: the pod's httpd page on 8080 (retried until it listens), a second connection
    on the same session, and the error of port 8089 that nobody listens on."""
    req = b"GET /index.html HTTP/1.0\r\n\r\n"
    for rid in range(100):
        out, errtext = spdy_forward(c, 8080, rid, req)
        if not errtext:
            break
    assert out.startswith(b"HTTP/1.") and out.endswith(b"hello from the pod\n"), out
    out, errtext = spdy_forward(c, 8080, 1000, req)
    assert out.endswith(b"hello from the pod\n") and errtext == b""
    out, errtext = spdy_forward(c, 8089, 1001, b"x")
    assert out == b"" and b"8089" in errtext


def test_port_forward_spdy(cri, pod, httpd):
    url = cri.rt.PortForward(cri.pb.PortForwardRequest(pod_sandbox_id=pod[0], port=[8080]), timeout=30).url
    assert "/portforward/" in url
    c = Spdy(url, "portforward.k8s.io")
    try:
        assert c.headers.get("x-stream-protocol-version") == "portforward.k8s.io"
        check_httpd_forwards(c)
    finally:
        c.close()


def test_port_forward_spdy_echo_both_ways_under_flow_control(cri, pod):
    start_ctr(cri, pod, "echo", ["nc", "-ll", "-p", "9000", "-e", "cat"])
    url = cri.rt.PortForward(cri.pb.PortForwardRequest(pod_sandbox_id=pod[0], port=[9000]), timeout=30).url
    c = Spdy(url, "portforward.k8s.io", flow=True)
    try:
        for rid in range(100):  # until nc listens
            out, errtext = spdy_forward(c, 9000, rid, b"hello\n")
            if not errtext:
                break
        assert out == b"hello\n"
        big = os.urandom(1024 * 1024)
        out, errtext = spdy_forward(c, 9000, 1000, big)
        assert errtext == b"" and out == big
        # a pair the client resets while its connection is open: released, the session goes on
        err = c.open({"streamtype": "error", "port": "9000", "requestid": "2000"})
        data = c.open({"streamtype": "data", "port": "9000", "requestid": "2000"})
        c.send(data, b"half way\n")
        assert c.wait(lambda: data.data == b"half way\n")
        c.reset(data)
        c.reset(err)
        out, errtext = spdy_forward(c, 9000, 2001, b"after reset\n")
        assert out == b"after reset\n" and errtext == b""
    finally:
        c.close()


def test_port_forward_websocket(cri, pod, httpd):
    for _ in range(100):
        url = cri.rt.PortForward(cri.pb.PortForwardRequest(pod_sandbox_id=pod[0], port=[8080]), timeout=30).url
        w = Ws(url, "v4.channel.k8s.io")
        first = [w.recv_one(), w.recv_one()]
        assert sorted(first) == [(0, struct.pack("<H", 8080)), (1, struct.pack("<H", 8080))]
        w.send(0, b"GET /index.html HTTP/1.0\r\n\r\n")
        ch = w.read_all()
        if not ch.get(1):
            break
    assert ch.get(0, b"").endswith(b"hello from the pod\n") and not ch.get(1)
    # without ports in the request, from the URL
    url = cri.rt.PortForward(cri.pb.PortForwardRequest(pod_sandbox_id=pod[0]), timeout=30).url
    w = Ws(url + "?port=8080", "v4.channel.k8s.io")
    assert w.recv_one() in [(0, struct.pack("<H", 8080)), (1, struct.pack("<H", 8080))]
    w.close()


def test_tokens_are_single_use(cri, sleeper, d):
    url = exec_url(cri, sleeper, ["echo", "once"])
    assert spdy_exec(url)[0] == b"once\n"
    assert http_status(url, [("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1")]) == 404
    base = "http://127.0.0.1:%d" % d.stream_port
    assert http_status(base + "/exec/" + "0" * 32, [("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1")]) == 404
    assert http_status(base + "/nothing", []) == 404
    # a token is for its own kind of request only
    url = exec_url(cri, sleeper, ["true"])
    assert http_status(url.replace("/exec/", "/attach/"), [("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1")]) == 404


def test_bad_requests_are_refused_and_the_daemon_survives(cri, sleeper, d):
    up = [("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1")]
    # no upgrade: 400, and the token is spent
    url = exec_url(cri, sleeper, ["true"])
    assert http_status(url, []) == 400
    assert http_status(url, up) == 404
    assert http_status(exec_url(cri, sleeper, ["true"]), [("Connection", "Upgrade"), ("Upgrade", "h2c")]) == 400
    # websocket without a key
    assert http_status(exec_url(cri, sleeper, ["true"]),
                       [("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")],
                       method="GET") == 400
    # a protocol the server does not speak
    assert http_status(exec_url(cri, sleeper, ["true"]), up + [("X-Stream-Protocol-Version", "v9.nope")]) == 403
    base = "http://127.0.0.1:%d/" % d.stream_port
    assert http_status(base, None, raw=b"garbage\r\n\r\n") == 400
    assert http_status(base, None, raw=b"GET /exec/x HTTP/1.1\r\n" + b"X: y\r\n" * 5000 + b"\r\n") in (0, 400)
    # a client that breaks the SPDY framing: dropped, nothing else harmed
    c = Spdy(exec_url(cri, sleeper, ["sleep", "1"]))
    c._write(b"\x80\x09\x00\x01\x00\x00\x00\x00")  # control frame of SPDY version 9
    assert c.wait(lambda: c.closed)
    c.close()
    # still serving
    assert spdy_exec(exec_url(cri, sleeper, ["echo", "alive"]))[0] == b"alive\n"


def test_stream_calls_refuse_bad_requests(cri, pod, sleeper):
    def code(fn, req):
        with pytest.raises(grpc.RpcError) as e:
            fn(req, timeout=30)
        return e.value.code()

    assert code(cri.rt.Exec, cri.pb.ExecRequest(container_id=sleeper, stdout=True)) == grpc.StatusCode.INVALID_ARGUMENT
    assert code(cri.rt.Exec, cri.pb.ExecRequest(container_id=sleeper, cmd=["true"])) == \
        grpc.StatusCode.INVALID_ARGUMENT
    assert code(cri.rt.Exec, cri.pb.ExecRequest(container_id="nope", cmd=["true"], stdout=True)) == \
        grpc.StatusCode.NOT_FOUND
    assert code(cri.rt.Attach, cri.pb.AttachRequest(container_id="nope", stdout=True)) == grpc.StatusCode.NOT_FOUND
    assert code(cri.rt.PortForward, cri.pb.PortForwardRequest(pod_sandbox_id="nope")) == grpc.StatusCode.NOT_FOUND
    assert code(cri.rt.PortForward, cri.pb.PortForwardRequest(pod_sandbox_id=pod[0], port=[70000])) == \
        grpc.StatusCode.INVALID_ARGUMENT



def test_daemon_stops_with_sessions_open(tmp_path):
    """A daemon of its own (pods on the node's network): SIGTERM with an exec session and a token in flight ends
    it cleanly."""
    sock = str(tmp_path / "cri.sock")
    port = stream_port()
    dm = start_daemon(args=["--cri-socket", sock, "--pod-sandbox-image", "isulad/pause:builtin",
                            "--websocket-server-listening-port", str(port)])
    c = None
    try:
        cri = Cri(sock)
        cid = host_network_sleeper(cri, "stop")
        # the port taken by someone else: the call says so, and a later one starts the server
        with socket.socket() as taken:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            taken.bind(("127.0.0.1", port))
            taken.listen(1)
            with pytest.raises(grpc.RpcError) as e:
                exec_url(cri, cid, ["true"])
            assert str(port) in e.value.details()
        c = Spdy(exec_url(cri, cid, ["sh", "-c", "echo started; exec sleep 100000"]))
        c.open({"streamtype": "error"})
        out = c.open({"streamtype": "stdout"})
        c.open({"streamtype": "stderr"})
        assert c.wait(lambda: out.data == b"started\n")
        exec_url(cri, cid, ["true"])  # a token nobody uses
        cri.close()
        rc = dm.stop()
        log = dm.read_log()
        # a sanitizer build reports the whole daemon's leaks at exit (exit 1): only a memory error fails it here
        leaks_only = "ERROR: LeakSanitizer" in log and "ERROR: AddressSanitizer" not in log and \
            "runtime error" not in log
        assert rc == 0 or leaks_only, log[-3000:]
        assert c.wait(lambda: c.closed)
    finally:
        if c is not None:
            c.close()
        stop_daemon(dm)


def test_port_forward_spdy_tunnelled_in_websocket(cri, pod, httpd):
    """kubectl 1.30+'s first choice: the SPDY port forward inside WebSocket binary messages."""
    url = cri.rt.PortForward(cri.pb.PortForwardRequest(pod_sandbox_id=pod[0], port=[8080]), timeout=30).url
    c = SpdyOverWebSocket(url, flow=True)
    try:
        assert c.subprotocol == "spdy/3.1+portforward.k8s.io"  # as python3-websocket spells what it got
        check_httpd_forwards(c)
        c.ping(7)
        assert c.wait(lambda: 7 in getattr(c, "pings", []))
    finally:
        c.close()
    # the protocol answered as asked (gorilla/websocket in client-go compares it exactly)
    url = cri.rt.PortForward(cri.pb.PortForwardRequest(pod_sandbox_id=pod[0], port=[8080]), timeout=30).url
    sock, status, headers, _ = http_exchange(url, [
        ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Protocol", SpdyOverWebSocket.PROTOCOL)],
        method="GET")
    sock.close()
    assert status == 101 and headers.get("sec-websocket-protocol") == "SPDY/3.1+portforward.k8s.io", headers
    # a WebSocket client naming no protocol gets the channel protocol, never the tunnel
    url = cri.rt.PortForward(cri.pb.PortForwardRequest(pod_sandbox_id=pod[0], port=[8080]), timeout=30).url
    w = Ws(url, None)
    assert w.recv_one() in [(0, struct.pack("<H", 8080)), (1, struct.pack("<H", 8080))]
    w.close()


# ---- kubectl's own client-go against the streaming server (kubectl is not in Debian: skipped without it) ----

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl")


@pytest.fixture(scope="module")
def apiserver(cri, pod, sleeper, httpd):
    from stream_clients import FakeApiServer
    s = FakeApiServer(cri, pod[0], {"sleeper": sleeper, "httpd": httpd})
    yield s
    s.close()


def kubectl(apiserver, tmp_path, *args, env=None, **kw):
    e = dict(os.environ, HOME=str(tmp_path), KUBECONFIG=os.devnull)
    e.update(env or {})
    return subprocess.run(["kubectl", "--server", apiserver.url, "--request-timeout", "60s"] + list(args),
                          capture_output=True, env=e, timeout=120, **kw)


@needs_kubectl
@pytest.mark.parametrize("websockets", ["true", "false"])
def test_kubectl_exec(apiserver, tmp_path, websockets):
    env = {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": websockets}
    r = kubectl(apiserver, tmp_path, "exec", "stream", "-c", "sleeper", "--", "echo", "hi from kubectl", env=env)
    assert r.returncode == 0 and r.stdout == b"hi from kubectl\n", r.stderr
    r = kubectl(apiserver, tmp_path, "exec", "stream", "-c", "sleeper", "--", "sh", "-c", "echo e >&2; exit 3", env=env)
    assert r.returncode == 3 and b"e\n" in r.stderr, r.stderr
    data = os.urandom(300 * 1024)
    r = kubectl(apiserver, tmp_path, "exec", "-i", "stream", "-c", "sleeper", "--", "cat", env=env, input=data)
    assert r.returncode == 0 and r.stdout == data, r.stderr


@needs_kubectl
@pytest.mark.parametrize("websockets", ["true", "false"])
def test_kubectl_port_forward(apiserver, tmp_path, websockets):
    """SPDY; with websockets kubectl asks for SPDY tunnelled in a WebSocket (what an API server translates to SPDY
    for kubelet), which isulad's streaming server serves itself: no fallback to a second, SPDY upgrade."""
    local = stream_port()
    del apiserver.upgrades[:]
    e = dict(os.environ, HOME=str(tmp_path), KUBECONFIG=os.devnull, KUBECTL_PORT_FORWARD_WEBSOCKETS=websockets)
    p = subprocess.Popen(["kubectl", "--server", apiserver.url, "port-forward", "--address", "127.0.0.1", "pod/stream",
                          "%d:8080" % local], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
    try:
        assert b"Forwarding from" in p.stdout.readline()
        body = b""
        for _ in range(100):  # until httpd listens
            with socket.create_connection(("127.0.0.1", local), timeout=60) as s:
                s.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
                body = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    body += chunk
            if body.endswith(b"hello from the pod\n"):
                break
        assert body.startswith(b"HTTP/1.") and body.endswith(b"hello from the pod\n")
        if websockets == "true":
            assert apiserver.upgrades == [("portforward", "websocket", "SPDY/3.1+portforward.k8s.io")]
        else:
            assert apiserver.upgrades == [("portforward", "SPDY/3.1", "portforward.k8s.io")]
    finally:
        p.kill()
        p.wait()


@needs_kubectl
@pytest.mark.parametrize("websockets", ["true", "false"])
def test_kubectl_attach(cri, pod, apiserver, tmp_path, websockets):
    name = "kattach-" + websockets
    apiserver.containers[name] = start_ctr(cri, pod, name, ["cat"], stdin=True)
    env = {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": websockets}
    r = kubectl(apiserver, tmp_path, "attach", "-i", "stream", "-c", name, env=env, input=b"through kubectl attach\n")
    assert r.returncode == 0 and r.stdout == b"through kubectl attach\n", r.stderr


@needs_kubectl
@pytest.mark.parametrize("websockets", ["true", "false"])
def test_kubectl_exec_tty_takes_the_terminal_size(apiserver, tmp_path, websockets):
    """kubectl exec -it on a pseudo-terminal of 33x111: the size reaches the process through the resize stream."""
    import fcntl
    import pty
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
    e = dict(os.environ, HOME=str(tmp_path), KUBECONFIG=os.devnull, KUBECTL_REMOTE_COMMAND_WEBSOCKETS=websockets)
    p = subprocess.Popen(["kubectl", "--server", apiserver.url, "exec", "-it", "stream", "-c", "sleeper", "--", "sh",
                          "-c", "stty size; echo done"], stdin=slave, stdout=slave, stderr=slave, env=e,
                         start_new_session=True)
    os.close(slave)
    out = b""
    try:
        while b"done" not in out:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        assert p.wait(timeout=60) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    assert b"33 111" in out, out


def test_idle_connections_are_closed(tmp_path):
    """A daemon of its own with --stream-idle-timeout 2s: a session without traffic either way is closed, one whose
    process prints every second outlives the timeout."""
    sock = str(tmp_path / "cri.sock")
    dm = start_daemon(args=["--cri-socket", sock, "--pod-sandbox-image", "isulad/pause:builtin",
                            "--websocket-server-listening-port", str(stream_port()), "--stream-idle-timeout", "2s"])
    c = w = None
    try:
        cri = Cri(sock)
        cid = host_network_sleeper(cri, "idle")
        # SPDY: the process prints once and sleeps; the server closes the connection without an exit status
        c = Spdy(exec_url(cri, cid, ["sh", "-c", "echo started; exec sleep 100000"]))
        err = c.open({"streamtype": "error"})
        out = c.open({"streamtype": "stdout"})
        c.open({"streamtype": "stderr"})
        assert c.wait(lambda: out.data == b"started\n")
        assert c.wait(lambda: c.closed)
        assert bytes(err.data) == b""
        # WebSocket: the same
        w = Ws(exec_url(cri, cid, ["sleep", "100000"], stderr=True))
        assert w.read_all() == {}
        # traffic keeps a session open past the timeout: eight lines half a second apart (4 s in all; the gaps leave
        # the 2 s timeout room on a loaded machine), then the exit status
        o, e, st = spdy_exec(exec_url(cri, cid, ["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 0.5; done"]))
        assert o == b"1\n2\n3\n4\n5\n6\n7\n8\n" and status_of(st)["status"] == "Success"
        cri.close()
    finally:
        for x in (c, w):
            if x is not None:
                x.close()
        stop_daemon(dm)


def test_stream_idle_timeout_option_is_validated(tmp_path):
    r = subprocess.run([os.path.join(os.environ.get("ISD_BUILD_DIR", "build"), "isulad"), "--stream-idle-timeout",
                        "500ms", "-H", "unix://" + str(tmp_path / "x.sock"), "-g", str(tmp_path / "g"),
                        "-S", str(tmp_path / "s"), "-p", str(tmp_path / "p.pid")], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0 and "--stream-idle-timeout: the stream idle timeout must be at least 1s" in r.stderr, \
        r.stderr
