"""The unix socket's access control (guide D-11): the socket is mode 0660, owned by root and the `group`
setting's group; a user in that group can use isula, a user outside it gets permission denied. The users and
the group are made for the test (useradd/groupadd) and removed after it; isula runs as them with setpriv."""
import grp
import os
import stat
import subprocess

import pytest

from conftest import bin_path


@pytest.fixture
def users():
    tag = "isd%d" % (os.getpid() % 100000)
    group, inside, outside = tag + "g", tag + "in", tag + "out"
    subprocess.run(["groupadd", group], check=True)
    try:
        subprocess.run(["useradd", "-M", "-N", "-s", "/bin/sh", "-G", group, inside], check=True)
        subprocess.run(["useradd", "-M", "-N", "-s", "/bin/sh", outside], check=True)
        yield group, inside, outside
    finally:
        for u in (inside, outside):
            subprocess.run(["userdel", u], capture_output=True)
        subprocess.run(["groupdel", group], capture_output=True)


def run_as(user, d, *args):
    env = {"PATH": "/usr/bin:/bin", "HOME": "/", "ISULAD_HOST": d.host}
    return subprocess.run(["setpriv", "--reuid=" + user, "--regid=users", "--init-groups", bin_path("isula")] +
                          list(args), capture_output=True, text=True, env=env, timeout=60)


def test_socket_group_members_only(new_daemon, users):
    group, inside, outside = users
    d = new_daemon(extra_args=["--group", group])
    os.chmod(d.base, 0o711)  # the socket's directory must be traversable; the socket itself decides
    d.start()
    st = os.stat(d.sock)
    assert stat.S_IMODE(st.st_mode) == 0o660
    assert (st.st_uid, st.st_gid) == (0, grp.getgrnam(group).gr_gid)
    r = run_as(inside, d, "version")
    assert r.returncode == 0 and "Server:" in r.stdout, r.stderr
    r = run_as(inside, d, "run", "--rm", "busybox", "echo", "member")
    assert r.stdout == "member\n", r.stderr
    r = run_as(outside, d, "version")
    assert r.returncode != 0 and "Server:" not in r.stdout
    r = run_as(outside, d, "ps")
    assert r.returncode != 0 and "permission denied" in r.stderr, r.stderr
    assert run_as(outside, d, "create", "busybox", "true").returncode != 0
    assert subprocess.run([bin_path("isula"), "-H", d.host, "ps", "-a", "-q"], capture_output=True,
                          text=True).stdout == ""
