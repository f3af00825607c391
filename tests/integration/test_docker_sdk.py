"""The Docker Python SDK (Debian's python3-docker) against the session isulad: containers run/logs/exec_run/
wait/stop/remove, attach, images list/get/tag/remove/load, version and info. Every container a test makes is
labelled and removed by the `sdk` fixture, also when the test fails."""
import socket
import uuid

import pytest

docker = pytest.importorskip("docker")

LABEL = "isd-it-sdk"


@pytest.fixture
def sdk(daemon):
    client = docker.DockerClient(base_url="unix://" + daemon.sock, version="1.41", timeout=60)
    yield client
    for c in client.containers.list(all=True, filters={"label": LABEL}):
        c.remove(force=True)
    client.close()


def run(sdk, *args, **kw):
    kw.setdefault("labels", {LABEL: "1"})
    return sdk.containers.run(*args, **kw)


def test_version_and_info(sdk):
    v = sdk.version()
    assert v["ApiVersion"] == "1.41" and v["Os"] == "linux"
    assert sdk.ping() is True
    info = sdk.info()
    assert info["Driver"] == "overlay2"
    assert "runc" in info["Runtimes"]


def test_run_foreground_output_and_error(sdk):
    assert run(sdk, "busybox", ["echo", "hello"], remove=True) == b"hello\n"
    with pytest.raises(docker.errors.ContainerError) as e:
        run(sdk, "busybox", ["sh", "-c", "echo oops >&2; exit 3"], remove=True)
    assert e.value.exit_status == 3
    assert sdk.containers.list(all=True, filters={"label": LABEL}) == []


def test_run_detached_logs_exec_wait_stop_remove(sdk):
    name = "sdk-" + uuid.uuid4().hex[:10]
    c = run(sdk, "busybox", ["sh", "-c", "echo out; echo err >&2; trap 'exit 143' TERM; while :; do sleep 0.1; done"],
            detach=True, name=name)
    c.reload()
    assert c.status == "running" and c.name == name
    assert sdk.containers.get(name).id == c.id
    assert c.attrs["State"]["Pid"] > 0
    assert any(x.id == c.id for x in sdk.containers.list())

    r = c.exec_run(["sh", "-c", "echo in-exec; exit 4"])
    assert r.exit_code == 4 and r.output == b"in-exec\n"
    r = c.exec_run(["sh", "-c", "echo $FOO"], environment={"FOO": "bar"}, workdir="/tmp")
    assert r.exit_code == 0 and r.output == b"bar\n"
    # logs are read once the exec above proves the shell ran its first lines
    assert c.logs(stdout=True, stderr=False) == b"out\n"
    assert c.logs(stdout=False, stderr=True) == b"err\n"

    c.stop(timeout=10)
    assert c.wait(timeout=30)["StatusCode"] in (143, 137)
    c.reload()
    assert c.status == "exited"
    c.remove()
    with pytest.raises(docker.errors.NotFound):
        sdk.containers.get(name)


def test_kill_and_wait(sdk):
    c = run(sdk, "busybox", ["sleep", "600"], detach=True)
    c.kill(signal="SIGKILL")
    assert c.wait(timeout=30)["StatusCode"] == 137


def test_attach_stream(sdk):
    c = run(sdk, "busybox", ["sh", "-c", "read x; echo got $x; sleep 600"], detach=True, stdin_open=True)
    stream = c.attach(stream=True, logs=False, stdout=True, stderr=True)
    # stdin through the low-level socket; stdout comes back on the attach stream
    s = sdk.api.attach_socket(c.id, params={"stdin": 1, "stream": 1})
    sock = s._sock if hasattr(s, "_sock") else s
    sock.sendall(b"abc\n")
    assert next(stream) == b"got abc\n"
    sock.shutdown(socket.SHUT_WR)
    sock.close()
    c.reload()
    assert c.status == "running"


def test_attach_socket_frames(sdk):
    c = run(sdk, "busybox", ["sh", "-c", "sleep 600"], detach=True)
    s = sdk.api.attach_socket(c.id, params={"stdout": 1, "stderr": 1, "stream": 1})
    sock = s._sock if hasattr(s, "_sock") else s
    c.exec_run(["sh", "-c", "echo to-stderr > /proc/1/fd/2"])
    header = b""
    while len(header) < 8:
        header += sock.recv(8 - len(header))
    assert header[0] == 2
    size = int.from_bytes(header[4:], "big")
    payload = b""
    while len(payload) < size:
        payload += sock.recv(size - len(payload))
    assert payload == b"to-stderr\n"
    sock.close()


def test_images_list_get_tag_remove_load(sdk):
    bb = sdk.images.get("busybox:latest")
    assert "busybox:latest" in bb.tags
    assert any(i.id == bb.id for i in sdk.images.list())
    assert [i.id for i in sdk.images.list(name="busybox")] == [bb.id]

    repo = "sdk-" + uuid.uuid4().hex[:8]
    try:
        assert bb.tag(repo, "t1") is True
        assert sdk.images.get(repo + ":t1").id == bb.id
        data = b"".join(sdk.images.get(repo + ":t1").save(named=repo + ":t1"))
        sdk.images.remove(repo + ":t1")
        with pytest.raises(docker.errors.ImageNotFound):
            sdk.images.get(repo + ":t1")
        loaded = sdk.images.load(data)
        assert [i.id for i in loaded] == [bb.id]
        assert sdk.images.get(repo + ":t1").id == bb.id
        with pytest.raises(docker.errors.ImageNotFound):
            sdk.images.remove("no-such-image-" + repo)
    finally:
        try:
            sdk.images.remove(repo + ":t1")
        except docker.errors.ImageNotFound:
            pass
    assert sdk.images.get("busybox:latest").id == bb.id


def test_errors_map_to_sdk_exceptions(sdk):
    with pytest.raises(docker.errors.NotFound):
        sdk.containers.get("no-such-container-" + uuid.uuid4().hex)
    name = "sdk-" + uuid.uuid4().hex[:10]
    c = run(sdk, "busybox", ["sleep", "600"], detach=True, name=name)
    with pytest.raises(docker.errors.APIError) as e:
        run(sdk, "busybox", ["true"], detach=True, name=name)
    assert e.value.status_code == 409
    with pytest.raises(docker.errors.APIError) as e:
        c.remove()
    assert e.value.status_code == 409
    with pytest.raises(docker.errors.ImageNotFound):
        sdk.containers.create("no-such-image-xyz:latest", ["true"], labels={LABEL: "1"})
