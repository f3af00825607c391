"""Other OCI runtimes and secure containers (guide chapter 3, KATA-012/013/022/025/031/03x) without kata itself:
a runtime wrapper of the test's own (a shell script registered in daemon.json "runtimes" with kata's
"runtime-args") records its argv and the bundle's config.json, drops kata's --kata-config and execs runc. It shows
that --runtime selects it (isula, docker CLI, SDK), that its runtime-args come first, that --annotation (isula) and
HostConfig.Annotations (Docker API) reach config.json verbatim (the VM sizing annotations too), and that a runtime
marked as a VM runtime ("vm": true, the default for kata-runtime) refuses what a VM cannot honour with the guide's
reasons."""
import json
import os
import shutil
import stat
import subprocess

import docker
import pytest

from conftest import bin_path

WRAPPER = r"""#!/bin/sh
log=%(log)s
printf '%%s\n' "$*" >> "$log/argv"
prev=
for a in "$@"; do
    if [ "$prev" = --bundle ] || [ "$prev" = -b ]; then
        cp "$a/config.json" "$log/config-$(basename "$a").json"
    fi
    prev=$a
done
if [ "$1" = --kata-config ]; then
    [ -f "$2" ] || { echo "kata config $2 missing" >&2; exit 1; }
    shift 2
fi
exec %(runc)s "$@"
"""

VM_ANNOTATIONS = {
    "com.github.containers.virtcontainers.sandbox_cpu": "4",
    "com.github.containers.virtcontainers.sandbox_mem": "4G",
    "com.github.containers.virtcontainers.blkio_cgroup":
        '{"blkiocgroup":[{"path":"/dev/sda","limits":[{"type":"throttle_read_bps","value":400}]},'
        '{"limits":[{"type":"blkio_weight","value":78}]}]}',
    "io.kubernetes.cri.container-type": "sandbox",
}


@pytest.fixture
def wrapped(new_daemon, tmp_path):
    """A daemon with runtimes `kata-runtime` (a VM runtime by its name) and `acc2-plain` (the same wrapper, not a
    VM runtime), both the wrapper with kata's runtime-args."""
    log = tmp_path / "log"
    log.mkdir()
    kata_conf = tmp_path / "configuration.toml"
    kata_conf.write_text("# kata's global configuration (KATA-014), unused by the wrapper\n")
    wrapper = tmp_path / "wrapper.sh"
    wrapper.write_text(WRAPPER % {"log": str(log), "runc": shutil.which("runc")})
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    args = ["--kata-config", str(kata_conf)]
    d = new_daemon(config={"runtimes": {"kata-runtime": {"path": str(wrapper), "runtime-args": args},
                                        "acc2-plain": {"path": str(wrapper), "runtime-args": args, "vm": False}}})
    d.start()
    d.wrapper_log = log
    d.kata_args = " ".join(args)
    return d


def isula(d, *args):
    return subprocess.run([bin_path("isula"), "-H", d.host] + list(args), capture_output=True, text=True,
                          timeout=120)


def recorded(d, cid):
    with open(os.path.join(str(d.wrapper_log), "config-%s.json" % cid)) as f:
        return json.load(f)


def argv_lines(d):
    p = os.path.join(str(d.wrapper_log), "argv")
    return open(p).read().splitlines() if os.path.exists(p) else []


def test_isula_runtime_selects_the_wrapper_with_its_args_and_annotations(wrapped):
    ann = sum((["--annotation", "%s=%s" % kv] for kv in VM_ANNOTATIONS.items()), [])
    r = isula(wrapped, "run", "--name", "acc2-kata1", "--runtime", "kata-runtime", "--net", "none", *ann,
              "busybox", "echo", "inside")
    assert (r.returncode, r.stdout) == (0, "inside\n"), r.stderr
    cid = isula(wrapped, "inspect", "-f", "{{.Id}}", "acc2-kata1").stdout.strip()
    spec = recorded(wrapped, cid)
    for k, v in VM_ANNOTATIONS.items():
        assert spec["annotations"][k] == v  # verbatim, JSON value included
    creates = [a for a in argv_lines(wrapped) if " create " in " %s " % a and cid in a]
    assert creates and all(a.startswith(wrapped.kata_args + " ") for a in creates), argv_lines(wrapped)
    r = isula(wrapped, "inspect", "-f", "{{.HostConfig.Runtime}}", "acc2-kata1")
    assert r.stdout.strip() == "kata-runtime"
    # the default runtime is not the wrapper
    before = len(argv_lines(wrapped))
    r = isula(wrapped, "run", "--rm", "busybox", "true")
    assert r.returncode == 0, r.stderr
    assert len(argv_lines(wrapped)) == before
    assert isula(wrapped, "rm", "acc2-kata1").returncode == 0


def test_docker_cli_and_sdk_select_the_runtime_and_pass_annotations(wrapped):
    env = dict(os.environ, DOCKER_HOST=wrapped.host)
    r = subprocess.run(["/usr/local/bin/docker", "run", "--rm", "--runtime", "kata-runtime", "--network", "none",
                        "busybox", "echo", "docker ok"], capture_output=True, text=True, env=env, timeout=120)
    assert (r.returncode, r.stdout) == (0, "docker ok\n"), r.stderr
    api = docker.APIClient(base_url=wrapped.host)
    hc = api.create_host_config(network_mode="none")
    hc["Runtime"] = "kata-runtime"
    hc["Annotations"] = {"io.kubernetes.docker.type": "podsandbox",
                         "com.github.containers.virtcontainers.sandbox_mem": "2G"}
    cid = api.create_container("busybox", ["true"], host_config=hc)["Id"]
    try:
        api.start(cid)
        assert api.wait(cid)["StatusCode"] == 0
        ann = recorded(wrapped, cid)["annotations"]
        assert ann["io.kubernetes.docker.type"] == "podsandbox"
        assert ann["com.github.containers.virtcontainers.sandbox_mem"] == "2G"
        assert api.inspect_container(cid)["HostConfig"]["Runtime"] == "kata-runtime"
    finally:
        api.remove_container(cid, force=True)


@pytest.mark.parametrize("opts,why", [
    ([], "runtime `kata-runtime` needs --net=none: its containers run in a virtual machine, which supports CNI "
         "networks only"),
    (["--net", "host"], "--net host is not supported by runtime `kata-runtime`: its containers run in a virtual "
                        "machine, which cannot reach the host's namespaces"),
    (["--net", "none", "--ipc", "host"], "--ipc host is not supported by runtime `kata-runtime`"),
    (["--net", "none", "--pid", "host"], "--pid host is not supported by runtime `kata-runtime`"),
    (["--net", "none", "--uts", "host"], "--uts host is not supported by runtime `kata-runtime`"),
    (["--net", "none", "-p", "8080:80"], "-p, -P and --expose are not supported by runtime `kata-runtime`"),
    (["--net", "none", "--expose", "80"], "-p, -P and --expose are not supported by runtime `kata-runtime`"),
    (["--net", "none", "--cpuset-mems", "1"], "--cpuset-mems 1 is not supported by runtime `kata-runtime`"),
])
def test_vm_runtime_refuses_what_a_vm_cannot_honour(wrapped, opts, why):
    r = isula(wrapped, "create", "--name", "acc2-refused", "--runtime", "kata-runtime", *opts, "busybox", "true")
    assert r.returncode != 0 and why in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "acc2-refused" not in isula(wrapped, "ps", "-a", "--format", "{{.Names}}").stdout
    # the same options with a runtime that is not a VM runtime are fine (the wrapper is the same program)
    if "--cpuset-mems" not in opts and "-p" not in opts:
        r = isula(wrapped, "create", "--name", "acc2-plain1", "--runtime", "acc2-plain", *opts, "busybox", "true")
        assert r.returncode == 0, r.stderr
        assert isula(wrapped, "rm", "-f", "acc2-plain1").returncode == 0


def test_vm_refusal_over_the_docker_cli(wrapped):
    env = dict(os.environ, DOCKER_HOST=wrapped.host)
    r = subprocess.run(["/usr/local/bin/docker", "create", "--runtime", "kata-runtime", "--network", "host",
                        "busybox", "true"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode != 0 and "--net host is not supported by runtime `kata-runtime`" in r.stderr, r.stderr


def test_wrapper_runtime_with_a_terminal_and_in_info(wrapped):
    """The runtime's console-socket convention goes through the wrapper (-t), and the daemon lists its runtimes."""
    r = isula(wrapped, "run", "-t", "--rm", "--runtime", "kata-runtime", "--net", "none", "busybox", "sh", "-c",
              "test -t 0 && echo tty")
    assert r.returncode == 0 and r.stdout.strip() == "tty", r.stderr
    assert any("--console-socket" in a for a in argv_lines(wrapped))
    env = dict(os.environ, DOCKER_HOST=wrapped.host)
    r = subprocess.run(["/usr/local/bin/docker", "info", "--format", "{{json .Runtimes}}"], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    runtimes = json.loads(r.stdout)
    assert runtimes["kata-runtime"]["path"].endswith("wrapper.sh") and "acc2-plain" in runtimes
