"""Daemon-wide container defaults from daemon.json: default-ulimits (D-41) and hook-spec (D-12)."""
import json

import pytest

from conftest import Isula


@pytest.fixture
def custom_daemon(new_daemon):
    """A started private daemon with the given daemon.json, and its isula."""

    def start(conf):
        d = new_daemon(config=conf)
        d.start()
        return d, Isula(d)

    return start


def test_default_ulimits_apply_unless_the_container_sets_its_own(custom_daemon):
    _, isula = custom_daemon({"default-ulimits": {"nproc": {"Name": "nproc", "Soft": 300, "Hard": 400}}})
    r = isula("run", "--rm", "busybox", "sh", "-c", "ulimit -u; ulimit -Hu")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["300", "400"]
    r = isula("run", "--rm", "--ulimit", "nproc=100:200", "busybox", "sh", "-c", "ulimit -u")
    assert r.stdout.strip() == "100"


def test_daemon_hook_spec_runs_for_every_container(custom_daemon, tmp_path):
    marker = tmp_path / "hook-ran"
    hook = tmp_path / "hook.sh"
    hook.write_text("#!/bin/sh\ncat > %s\n" % marker)
    hook.chmod(0o755)
    spec = tmp_path / "hooks.json"
    spec.write_text(json.dumps({"prestart": [{"path": str(hook)}]}))
    _, isula = custom_daemon({"hook-spec": str(spec)})
    r = isula("run", "--rm", "busybox", "true")
    assert r.returncode == 0, r.stderr
    # the runtime hands the hook the container state on stdin
    state = json.loads(marker.read_text())
    assert state["status"] in ("creating", "created")
    assert len(state["id"]) == 64
