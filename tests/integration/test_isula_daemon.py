"""The `isulad` daemon itself: help banner, version, pidfile lock, daemon.json validation, several hosts, socket
mode, and SIGTERM leaving containers running (live restore). Each test uses a private Daemon in its own temp
dir, never the session one; the fixture removes its containers, mounts and dirs also when a test fails."""
import json
import os
import signal
import socket
import stat
import subprocess

from conftest import Isula, bin_path, leftover_mounts


def run_isulad(args, timeout=30):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isula_at(host, *args):
    env = dict(os.environ)
    env.pop("ISULAD_HOST", None)
    return subprocess.run([bin_path("isula"), "-H", host] + list(args), capture_output=True, text=True, env=env,
                          timeout=60)


def test_help_banner():
    r = run_isulad([bin_path("isulad"), "--help"])
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[0] == "lightweight container runtime daemon"
    assert "Usage:  isulad [global options]" in lines
    assert "GLOBAL OPTIONS:" in lines
    for flag in ("--host", "--graph", "--state", "--pidfile", "--config-file", "--log-level"):
        assert any(flag in line for line in lines), flag


def test_version_flag(new_daemon):
    r = run_isulad([bin_path("isulad"), "-V"])
    assert r.returncode == 0
    out = r.stdout.strip()
    assert out.startswith("Version ") and len(out.splitlines()) == 1
    d = new_daemon()
    d.start()
    server = Isula(d).ok("version").split("Server:")[1]
    assert "Version:      " + out.split()[1] in server


def test_second_daemon_same_pidfile_fails(new_daemon):
    d = new_daemon()
    d.start()
    other = new_daemon()
    args = other.args()
    args[args.index("-p") + 1] = d.pidfile
    r = run_isulad(args)
    assert r.returncode != 0
    assert "another isulad" in r.stderr and d.pidfile in r.stderr, r.stderr
    assert Isula(d).ok("version")
    assert not os.path.exists(other.sock)
    with open(d.pidfile) as f:
        assert int(f.read().strip()) == d.proc.pid


def test_unknown_config_key_refused(new_daemon):
    d = new_daemon(config={"log-level": "info", "it-bogus-key": True})
    r = run_isulad(d.args())
    assert r.returncode != 0
    assert "it-bogus-key" in r.stderr, r.stderr
    assert not os.path.exists(d.sock)


def test_hosts_in_flag_and_file_refused(new_daemon):
    d = new_daemon(config={"hosts": ["unix:///tmp/isd-it-from-file.sock"]})
    r = run_isulad(d.args())
    assert r.returncode != 0
    expected = ("unable to configure the isulad with file %s: the following directives are specified both as a "
                "flag and in the configuration file: hosts: (from flag: [%s], from file: "
                "[unix:///tmp/isd-it-from-file.sock])" % (d.conf, d.host))
    assert expected in r.stderr, r.stderr
    assert not os.path.exists(d.sock) and not os.path.exists("/tmp/isd-it-from-file.sock")


def test_two_hosts_unix_and_tcp(new_daemon):
    tcp = "tcp://127.0.0.1:%d" % free_port()
    d = new_daemon(extra_args=["-H", tcp])
    d.start()
    for host in (d.host, tcp):
        r = isula_at(host, "version")
        assert r.returncode == 0 and "Server:" in r.stdout, (host, r.stderr)
    cid = Isula(d).ok("create", "busybox", "true")
    r = isula_at(tcp, "ps", "-a", "-q", "--no-trunc")
    assert r.stdout.split() == [cid]


def test_hosts_from_config_file(new_daemon):
    tcp = "tcp://127.0.0.1:%d" % free_port()
    d = new_daemon()
    with open(d.conf, "w") as f:
        json.dump({"hosts": [d.host, tcp]}, f)
    args = d.args()
    i = args.index("-H")
    del args[i:i + 2]
    d.args = lambda: args
    d.start()
    assert isula_at(tcp, "version").returncode == 0


def test_socket_mode_0660(new_daemon):
    d = new_daemon()
    d.start()
    st = os.stat(d.sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660


def test_sigterm_keeps_containers_running_and_restart_restores(new_daemon):
    d = new_daemon()
    d.start()
    isula = Isula(d)
    cid = isula.ok("run", "-d", "--name", "it-live", "busybox", "sleep", "600")
    pid = isula.inspect(cid)["State"]["Pid"]
    assert d.stop(signal.SIGTERM) == 0
    os.kill(pid, 0)  # still running without the daemon
    assert not os.path.exists(d.sock)
    d.start()
    st = isula.inspect("it-live")["State"]
    assert st["Running"] is True and st["Pid"] == pid
    assert isula.ok("exec", "it-live", "echo", "alive") == "alive"
    isula.ok("stop", "-t", "0", "it-live")
    assert isula.inspect(cid)["State"]["ExitCode"] == 137
    isula.ok("rm", cid)
    assert not leftover_mounts(d.base)


def test_restart_keeps_state_and_sees_exits_while_down(new_daemon, tmp_path):
    d = new_daemon()
    d.start()
    isula = Isula(d)
    go = tmp_path / "go"
    created = isula.ok("create", "--name", "it-created", "-l", "k=v", "busybox", "true")
    assert isula("run", "--name", "it-exited", "busybox", "sh", "-c", "exit 5").returncode == 5
    isula.ok("run", "-d", "--name", "it-dies", "-v", "%s:/data" % tmp_path, "busybox", "sh", "-c",
             "while [ ! -e /data/go ]; do sleep 0.05; done; exit 7")
    isula.ok("tag", "busybox", "it-kept:1")
    assert d.stop(signal.SIGTERM) == 0
    go.touch()  # the container exits while the daemon is down
    d.start()
    st = isula.inspect("it-dies")["State"]
    if st["Running"]:  # the daemon may come back before the container noticed the file
        assert isula.ok("wait", "it-dies") == "7"
        st = isula.inspect("it-dies")["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 7, st
    assert isula.inspect("it-exited")["State"]["ExitCode"] == 5
    c = isula.inspect("it-created")
    assert c["Id"] == created and c["State"]["Status"] == "created" and c["Config"]["Labels"] == {"k": "v"}
    assert "it-kept:1" in isula.ok("images", "-q").split()
    names = isula.ok("ps", "-a", "--format", "{{.Names}}").split()
    assert sorted(names) == ["it-created", "it-dies", "it-exited"]
    r = isula("start", "-a", "it-exited")
    assert r.returncode == 5
    isula.ok("rm", "it-dies", "it-exited", "it-created")
    assert not leftover_mounts(d.base)


def test_second_daemon_on_the_same_socket_fails(new_daemon):
    d = new_daemon()
    d.start()
    cid = Isula(d).ok("create", "busybox", "true")
    other = new_daemon()
    args = other.args()
    args[args.index("-H") + 1] = d.host
    r = run_isulad(args)
    assert r.returncode != 0
    assert d.sock in r.stderr, r.stderr
    # the first daemon keeps its socket and still answers
    assert Isula(d).ok("ps", "-a", "-q", "--no-trunc").split() == [cid]
