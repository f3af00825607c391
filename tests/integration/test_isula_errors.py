"""Error cases and flag parsing (guide §1.9) of the real `isula`.

Every error must be one error line on stderr (a flag error may add docker's `See 'isula CMD --help'.` hint),
the documented exit code, and leave the daemon running with a sentinel container unharmed (checked after
every test by an autouse fixture).
"""
import os
import re
import subprocess

import pytest

from conftest import bin_path
from test_isula_containers import names, tmpdir_host  # noqa: F401 (fixtures)

HINT = re.compile(r"^See 'isula( \w+)? --help'\.$")


def error_lines(r):
    """The error lines of stderr, without docker's `See ... --help` hint and the usage text after it."""
    lines = r.stderr.strip().splitlines()
    for i, line in enumerate(lines):
        if HINT.match(line):
            assert all(not x or x.startswith("Usage:") for x in lines[i + 1:]), r.stderr
            return lines[:i]
    return lines


def assert_error(r, code=None, contains=None):
    assert r.returncode != 0, r
    if code is not None:
        assert r.returncode == code, (r.returncode, r.stderr)
    lines = error_lines(r)
    assert len(lines) == 1, r.stderr
    if contains is not None:
        assert contains in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def sentinel(daemon):
    from conftest import Isula

    isula = Isula(daemon)
    cid = isula.ok("run", "-d", "--name", "it-errors-sentinel", "busybox", "sleep", "600")
    yield cid, isula.inspect(cid)["State"]["Pid"]
    isula("rm", "-f", cid)


@pytest.fixture(autouse=True)
def daemon_unharmed(isula, sentinel):
    yield
    cid, pid = sentinel
    assert isula("version").returncode == 0, "daemon stopped answering"
    st = isula.inspect(cid)["State"]
    assert st["Running"] and st["Pid"] == pid, st


# ---- unknown objects, names ---------------------------------------------------------------------------


@pytest.mark.parametrize("cmd", [
    ["inspect"], ["start"], ["stop"], ["rm"], ["rm", "-f"], ["kill"], ["restart"], ["pause"], ["unpause"],
    ["wait"], ["logs"], ["top"], ["export", "-o", "/dev/null"], ["exec"],
])
def test_unknown_container(isula, cmd):
    args = cmd + ["it-no-such-ctr"] + (["true"] if cmd == ["exec"] else [])
    line = assert_error(isula(*args))
    assert "it-no-such-ctr" in line


def test_rename_unknown_container(isula):
    assert_error(isula("rename", "it-no-such-ctr", "it-whatever"), contains="it-no-such-ctr")


@pytest.mark.parametrize("cmd", [["run"], ["create"], ["rmi"], ["inspect"], ["tag"]])
def test_unknown_image(isula, cmd):
    args = cmd + ["it-no-such-img:1"] + (["it-x:1"] if cmd == ["tag"] else [])
    r = isula(*args)
    assert_error(r, code=125 if cmd[0] in ("run", "create") else None, contains="it-no-such-img")


def test_name_conflict(isula, names):
    n = names()
    cid = isula.ok("create", "--name", n, "busybox", "true")
    r = isula("create", "--name", n, "busybox", "true")
    assert_error(r, code=125, contains=n)
    assert r.stdout == ""
    assert isula.inspect(n)["Id"] == cid
    other = names()
    isula.ok("create", "--name", other, "busybox", "true")
    assert_error(isula("rename", other, n), contains=n)


@pytest.mark.parametrize("bad", ["bad/name", "-leading", "sp ace", "a" * 0 + "!x"])
def test_invalid_name(isula, bad):
    before = isula.ok("ps", "-a", "-q", "--no-trunc")
    r = isula("create", "--name", bad, "busybox", "true")
    assert_error(r, code=125)
    assert isula.ok("ps", "-a", "-q", "--no-trunc") == before


def test_rm_running_without_force(isula, names):
    n = names()
    isula.ok("run", "-d", "--name", n, "busybox", "sleep", "300")
    assert_error(isula("rm", n), code=1, contains="running")
    assert isula.inspect(n)["State"]["Running"] is True


# ---- option values, unknown flags and commands --------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["run", "-m", "abc", "busybox", "true"],
    ["run", "--memory=12xyz", "busybox", "true"],
    ["run", "--cpu-shares", "abc", "busybox", "true"],
    ["run", "--pids-limit", "x", "busybox", "true"],
    ["run", "--bogus-flag", "busybox", "true"],
    ["create", "-Z", "busybox", "true"],
    ["run", "--env-file", "/nonexistent/env", "busybox", "true"],
    ["run", "--label-file", "/nonexistent/labels", "busybox", "true"],
    ["run", "-m", "1k", "busybox", "true"],
    ["run", "--stop-signal", "BOGUS", "busybox", "true"],
    ["run", "--restart", "bogus", "busybox", "true"],
    ["run", "--restart", "always:3", "busybox", "true"],
    ["run", "--restart", "always", "--rm", "busybox", "true"],
    ["run", "--log-driver", "bogus", "busybox", "true"],
    ["run", "--log-opt", "max-size=abc", "busybox", "true"],
    ["run", "--log-opt", "max-file=0", "busybox", "true"],
    ["run", "--log-opt", "bogus=1", "busybox", "true"],
    ["run", "--oom-score-adj", "5000", "busybox", "true"],
    ["run", "--ipc", "bogus", "busybox", "true"],
    ["run", "--pid", "bogus", "busybox", "true"],
    ["run", "--uts", "bogus", "busybox", "true"],
    ["run", "--net", "bogus", "busybox", "true"],
    ["run", "-p", "abc", "busybox", "true"],
    ["run", "--expose", "70000", "busybox", "true"],
    ["run", "--dns", "notanip", "busybox", "true"],
    ["run", "--add-host", "bad", "busybox", "true"],
    ["run", "--add-host", "h:notanip", "busybox", "true"],
    ["run", "--cpuset-cpus", "abc", "busybox", "true"],
    ["run", "--cpuset-cpus", "4096", "busybox", "true"],
    ["run", "--cpuset-mems", "1-0", "busybox", "true"],
    ["run", "-e", "=x", "busybox", "true"],
    ["run", "-p", "99999:80", "busybox", "true"],
    ["run", "--memory-swappiness", "200", "busybox", "true"],
    ["run", "--kernel-memory", "1k", "busybox", "true"],
    ["run", "--cpu-quota", "100", "busybox", "true"],
    ["run", "--cpu-period", "10", "busybox", "true"],
    ["create", "-v", "bad@name:/x", "busybox", "true"],  # "name:/x" is a named volume; "@" is not allowed in one
    ["create", "--mount", "type=bind,src=/nonexistent-src,dst=/x", "busybox", "true"],
    ["create", "--runtime", "nosuch", "busybox", "true"],
    ["create", "--external-rootfs", "/nonexistent-rootfs", "none", "true"],
])
def test_invalid_create_options_125(isula, args):
    before = isula.ok("ps", "-a", "-q", "--no-trunc")
    assert_error(isula(*args), code=125)
    assert isula.ok("ps", "-a", "-q", "--no-trunc") == before


@pytest.mark.parametrize("args", [["ps", "--bogus"], ["images", "--bogus"], ["stop", "-t", "x", "c"]])
def test_invalid_options_other_commands(isula, args):
    r = isula(*args)
    assert r.returncode != 0
    assert len(error_lines(r)) == 1, r.stderr


def test_unknown_command(isula):
    assert_error(isula("frobnicate"), contains="frobnicate")


def test_missing_arguments(isula):
    for cmd in ("start", "rm", "inspect", "rename", "create", "exec"):
        r = isula(cmd)
        assert r.returncode != 0 and len(error_lines(r)) == 1, (cmd, r.stderr)


# ---- exit codes of the process ------------------------------------------------------------------------


def test_command_not_found_127(isula, names):
    assert_error(isula("run", "--name", names(), "busybox", "it-no-such-command"), code=127,
                 contains="it-no-such-command")


def test_not_executable_126(isula, names):
    assert_error(isula("run", "--name", names(), "busybox", "/etc/passwd"), code=126,
                 contains="permission denied")


def test_entrypoint_not_found_125(isula, names):
    assert_error(isula("run", "--name", names(), "--entrypoint", "it-no-such-ep", "busybox"), code=125,
                 contains="it-no-such-ep")


def test_exec_not_found_and_not_executable(isula, names):
    n = names()
    isula.ok("run", "-d", "--name", n, "busybox", "sleep", "300")
    # as with docker, an exec that cannot start is reported on the attached stream (stdout)
    for cmd, code, text in (("it-no-such-command", 127, "executable file not found"),
                            ("/etc/passwd", 126, "permission denied")):
        r = isula("exec", n, cmd)
        assert r.returncode == code
        lines = (r.stdout + r.stderr).strip().splitlines()
        assert len(lines) == 1 and text in lines[0], lines
        assert_error(isula("exec", "-d", n, cmd), code=code, contains=text)


@pytest.mark.parametrize("code", [0, 1, 42, 255])
def test_run_exit_code_propagates(isula, names, code):
    r = isula("run", "--name", names(), "busybox", "sh", "-c", "exit %d" % code)
    assert r.returncode == code and r.stderr == ""
    r = isula("run", "--rm", "busybox", "sh", "-c", "exit %d" % code)
    assert r.returncode == code


# ---- flag parsing rules (guide §1.9) ------------------------------------------------------------------


def test_combined_short_flags_dit(isula, names):
    n = names()
    cid = isula.ok("run", "-dit", "--name", n, "busybox", "sh")
    cfg = isula.inspect(cid)["Config"]
    assert cfg["Tty"] is True and cfg["OpenStdin"] is True
    assert isula.inspect(cid)["State"]["Running"] is True


@pytest.mark.parametrize("form", [["-du=1000"], ["-du", "1000"], ["-d", "-u=1000"], ["-ud", "1000"],
                                  ["--user=1000", "-d"], ["--user", "1000", "--detach=true"]])
def test_value_forms(isula, names, form):
    n = names()
    isula.ok("run", *form, "--name=" + n, "busybox", "sleep", "300")
    insp = isula.inspect(n)
    assert insp["Config"]["User"] == "1000"
    assert insp["State"]["Running"] is True
    with open("/proc/%d/status" % insp["State"]["Pid"]) as f:
        uid_line = [line for line in f if line.startswith("Uid:")][0]
    assert uid_line.split()[1] == "1000"


def test_env_equals_value(isula, names):
    assert isula.ok("run", "--name", names(), "-e=A=1=2", "--env=B=x", "busybox", "sh", "-c",
                    'echo "$A $B"') == "1=2 x"


def test_bad_short_cluster(isula):
    assert_error(isula("run", "-du:root", "busybox"), code=125)


def test_double_dash_ends_flags(isula, names):
    assert isula.ok("run", "--name", names(), "--", "busybox", "echo", "-n", "x") == "x"


def run_with_host(host_env, *args):
    env = dict(os.environ)
    env.pop("ISULAD_HOST", None)
    if host_env is not None:
        env["ISULAD_HOST"] = host_env
    return subprocess.run([bin_path("isula")] + list(args), capture_output=True, text=True, env=env,
                          timeout=60)


def test_host_flag_positions(isula, sentinel):
    host = isula.daemon.host
    bogus = "unix:///tmp/isd-it-no-such.sock"
    cid = sentinel[0]
    for args in (["-H", host, "ps", "-q", "--no-trunc"], ["--host=" + host, "ps", "-q", "--no-trunc"],
                 ["ps", "-H", host, "-q", "--no-trunc"], ["ps", "-q", "--host", host, "--no-trunc"],
                 ["ps", "-H=" + host, "-q", "--no-trunc"]):
        r = run_with_host(bogus, *args)
        assert r.returncode == 0 and cid in r.stdout.split(), (args, r.stderr)
    r = run_with_host(host, "ps", "-q", "--no-trunc")
    assert r.returncode == 0 and cid in r.stdout.split()
    r = run_with_host(None, "-H", isula.daemon.sock, "ps", "-q", "--no-trunc")
    assert r.returncode == 0 and cid in r.stdout.split(), r.stderr


def test_unreachable_daemon(isula):
    bogus = "unix:///tmp/isd-it-no-such.sock"
    r = run_with_host(bogus, "ps")
    assert r.returncode != 0
    assert len(error_lines(r)) == 1 and "Cannot connect" in r.stderr, r.stderr
    r = run_with_host(None, "-H", bogus, "version")
    assert r.returncode == 1
    assert "Client:" in r.stdout
    assert "Can not connect with server.Is the iSulad daemon running on the host?" in r.stdout + r.stderr
