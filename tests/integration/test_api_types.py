"""Strict decoding of API bodies and the error format, by raw HTTP on the session isulad's socket: a field of
the wrong type is a 400 whose message names the field (as Docker's `json: cannot unmarshal ...`), and nothing
is created; error bodies are Docker's {"message": ...} plus the `code` isula reads back (docs/api.md)."""
import pytest

from test_api_errors import Api


@pytest.fixture
def api(daemon, isula):
    a = Api(daemon)
    a.made = []
    yield a
    for cid in a.made:
        isula("rm", "-f", cid)


def all_ids(isula):
    return sorted(isula.ok("ps", "-a", "-q", "--no-trunc").split())


def assert_bad_field(status, body, field, want_type):
    assert status == 400, body
    assert body["code"] == "invalid", body
    msg = body["message"]
    assert "cannot unmarshal" in msg and ("field %s " % field) in msg and want_type in msg, msg


@pytest.mark.parametrize("body,field,want_type", [
    ({"Image": "busybox", "HostConfig": {"Memory": "x"}}, "HostConfig.Memory", "int64"),
    ({"Image": "busybox", "Env": "A=B"}, "Env", "[]string"),
    ({"Image": "busybox", "Env": ["A=B", 3]}, "Env[1]", "string"),
    ({"Image": 7}, "Image", "string"),
    ({"Image": "busybox", "Tty": "true"}, "Tty", "bool"),
    ({"Image": "busybox", "Cmd": 5}, "Cmd", "strslice"),
    ({"Image": "busybox", "Labels": ["a=b"]}, "Labels", "map[string]string"),
    ({"Image": "busybox", "HostConfig": {"Binds": "/a:/b"}}, "HostConfig.Binds", "[]string"),
    ({"Image": "busybox", "HostConfig": {"Privileged": 1}}, "HostConfig.Privileged", "bool"),
    ({"Image": "busybox", "HostConfig": {"RestartPolicy": {"Name": "always", "MaximumRetryCount": "3"}}},
     "HostConfig.RestartPolicy.MaximumRetryCount", "int64"),
    ({"Image": "busybox", "HostConfig": {"Ulimits": [{"Name": "nofile", "Soft": "1", "Hard": 2}]}},
     "HostConfig.Ulimits[0].Soft", "int64"),
    ({"Image": "busybox", "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": 8080}]}}},
     "HostConfig.PortBindings.80/tcp[0].HostPort", "string"),
    ({"Image": "busybox", "NetworkingConfig": {"EndpointsConfig": {"bridge": {"Aliases": "x"}}}},
     "NetworkingConfig.EndpointsConfig.bridge.Aliases", "[]string"),
])
def test_create_wrong_type_is_400_naming_the_field(api, isula, body, field, want_type):
    before = all_ids(isula)
    status, answer = api.call("POST", "/containers/create", body)
    if status == 201:
        api.made.append(answer["Id"])
    assert_bad_field(status, answer, field, want_type)
    assert all_ids(isula) == before


def test_create_accepts_docker_shapes(api):
    # strslice Cmd as a string, nulls, unknown fields, MemorySwap -1: what Docker's decoder accepts
    status, body = api.call("POST", "/containers/create", {
        "Image": "busybox", "Cmd": "sleep 600", "Env": None, "NoSuchField": {"x": 1},
        "HostConfig": {"MemorySwap": -1, "Mounts": None, "ConsoleSize": [0, 0]}})
    assert status == 201, body
    api.made.append(body["Id"])


def test_exec_create_wrong_type(api):
    cid = api.call("POST", "/containers/create", {"Image": "busybox", "Cmd": ["sleep", "600"]})[1]["Id"]
    api.made.append(cid)
    assert api.call("POST", "/containers/%s/start" % cid)[0] == 204
    status, body = api.call("POST", "/containers/%s/exec" % cid, {"Cmd": "ls"})
    assert_bad_field(status, body, "Cmd", "[]string")
    status, body = api.call("POST", "/containers/%s/exec" % cid, {"Cmd": ["true"], "AttachStdout": "yes"})
    assert_bad_field(status, body, "AttachStdout", "bool")


def test_auth_wrong_type(api):
    status, body = api.call("POST", "/auth", {"username": ["me"], "password": "x", "serveraddress": "127.0.0.1:1"})
    assert_bad_field(status, body, "username", "string")


def test_error_bodies_carry_the_code(api):
    status, body = api.call("GET", "/containers/it-no-such-ctr-types/json")
    assert status == 404 and body["code"] == "not_found" and "No such container" in body["message"]
    status, body = api.call("POST", "/containers/create", raw=b"{not json", headers={"Content-Type": "application/json"})
    assert status == 400 and body["code"] == "invalid"


@pytest.mark.parametrize("cmd,code,text", [
    (["it-no-such-command"], "command_not_found", "executable file not found"),
    (["/etc/passwd"], "not_executable", "permission denied"),
])
def test_start_failure_code_and_docker_message(api, cmd, code, text):
    # the docker CLI derives 127/126 from the message text, isula from the code: both must be there
    status, body = api.call("POST", "/containers/create", {"Image": "busybox", "Cmd": cmd})
    assert status == 201, body
    api.made.append(body["Id"])
    status, body = api.call("POST", "/containers/%s/start" % body["Id"])
    assert status == 400, body
    assert body["code"] == code and text in body["message"], body


@pytest.mark.parametrize("path", ["/containers/%s/stop?t=soon", "/containers/%s/restart?t=1.5",
                                  "/containers/%s/resize?h=tall&w=80", "/containers/%s/resize?h=24&w=99999999999"])
def test_integer_query_parameters_are_strict(api, path):
    cid = api.call("POST", "/containers/create", {"Image": "busybox", "Cmd": ["sleep", "600"]})[1]["Id"]
    api.made.append(cid)
    status, body = api.call("POST", path % cid)
    param = path.split("?")[1].split("=")[0] if "h=tall" in path or "t=" in path else "w"
    assert status == 400 and body["code"] == "invalid", body
    assert "query parameter `%s`" % param in body["message"], body
    status, body = api.call("GET", "/containers/json?limit=some")
    assert status == 400 and "`limit`" in body["message"], body


@pytest.mark.parametrize("query", ["repo=Bad%20Repo&tag=v1", "repo=&tag=v1", "repo=it-types&tag=bad:tag"])
def test_tag_bad_query_is_400(api, query):
    status, body = api.call("POST", "/images/busybox/tag?" + query)
    assert status == 400 and body["code"] == "invalid" and body["message"], body


def test_docker_sdk_sees_400_naming_the_field(daemon, isula):
    docker = pytest.importorskip("docker")
    client = docker.APIClient(base_url="unix://" + daemon.sock, version="1.41", timeout=60)
    before = all_ids(isula)
    try:
        with pytest.raises(docker.errors.APIError) as e:
            client.create_container("busybox", command=["true"], host_config={"Memory": "x"})
        assert e.value.status_code == 400
        assert "HostConfig.Memory" in e.value.explanation
        with pytest.raises(docker.errors.APIError) as e:
            client.create_container("busybox", command=["true"], labels={"a": 1})
        assert e.value.status_code == 400 and "field Labels.a " in e.value.explanation
    finally:
        client.close()
    assert all_ids(isula) == before
