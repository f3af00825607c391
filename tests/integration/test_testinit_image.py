"""A one-file image: the static `testinit` program built in the tree, imported with `isula import`.

It has no shell and no libc files, so these tests show the engine runs what the image holds, delivers
signals to the container's init, wires stdin, and reports exit codes, without busybox in the way.
"""
import time

import pytest



@pytest.fixture(scope="module")
def testinit_image(daemon, tmp_path_factory):
    from conftest import Isula, import_testinit
    isula = Isula(daemon)
    import_testinit(isula, tmp_path_factory.mktemp("testinit"), "testinit:latest")
    yield "testinit:latest"
    isula("rmi", "-f", "testinit:latest")


def wait_for_log(isula, cid, text):
    for _ in range(200):
        if text in isula("logs", cid).stdout:
            return True
        time.sleep(0.05)
    return False


def test_runs_the_image_program(isula, testinit_image):
    r = isula("run", "--rm", testinit_image, "/testinit", "echo", "hello", "static")
    assert r.returncode == 0
    assert r.stdout == "hello static\n"


def test_exit_code_propagates(isula, testinit_image):
    assert isula("run", "--rm", testinit_image, "/testinit", "exit", "7").returncode == 7


def test_environment_reaches_the_process(isula, testinit_image):
    r = isula("run", "--rm", "-e", "GREETING=bonjour", testinit_image, "/testinit", "env", "GREETING")
    assert r.stdout == "bonjour\n"


def test_stdin_is_wired(isula, testinit_image):
    r = isula("run", "-i", "--rm", testinit_image, "/testinit", "cat", input="line one\nline two\n")
    assert r.returncode == 0
    assert r.stdout == "line one\nline two\n"


def test_signals_reach_init_and_stop_is_graceful(isula, container, testinit_image):
    cid = container("run", "-d", testinit_image, "/testinit", "signals")
    assert wait_for_log(isula, cid, "ready")
    isula.ok("kill", "-s", "USR1", cid)
    assert wait_for_log(isula, cid, "signal 10")
    assert isula.inspect(cid)["State"]["Running"] is True
    isula.ok("stop", "-t", "10", cid)
    state = isula.inspect(cid)["State"]
    assert state["Running"] is False
    assert state["ExitCode"] == 0
    assert "signal 15" in isula("logs", cid).stdout


def test_no_shell_in_the_image(isula, container, testinit_image):
    cid = container("run", "-d", testinit_image, "/testinit", "signals")
    r = isula("exec", cid, "sh", "-c", "true")
    assert r.returncode == 127
    # Docker writes an exec start error into the stream (as stdout); it must name the problem
    assert "executable file not found" in r.stdout + r.stderr
