"""Resource options (guide 3.2, R-*) and `update`, from isula, the docker CLI and the Docker SDK: each test reads
the cgroup files of the container's init process (found through /proc/<pid>/cgroup: the v1 hierarchies, and the
unified one for a controller bound there, as hugetlb is on hybrid hosts) after run and after update."""
import json
import os
import subprocess
import time
import uuid

import pytest

DOCKER = "/usr/local/bin/docker"
V1_NAMES = {"cpu", "cpuacct", "cpuset", "memory", "blkio", "pids", "hugetlb", "devices", "freezer"}


def unified_root():
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "/sys/fs/cgroup"
    if os.path.exists("/sys/fs/cgroup/unified/cgroup.controllers"):
        return "/sys/fs/cgroup/unified"
    return None


def cgroup_dir(pid, controller):
    """The directory of pid's cgroup holding controller's files: its v1 hierarchy, else the unified one."""
    unified = None
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            hid, ctrls, path = line.rstrip("\n").split(":", 2)
            if hid == "0" and ctrls == "":
                unified = path
            elif controller in ctrls.split(","):
                return "/sys/fs/cgroup/%s%s" % (controller, path)
    root = unified_root()
    assert unified is not None and root is not None, "no cgroup for %s" % controller
    return root + unified


def cg_read(pid, controller, name):
    with open(os.path.join(cgroup_dir(pid, controller), name)) as f:
        return f.read().strip()


def host_has_v1(controller):
    with open("/proc/self/cgroup") as f:
        return any(controller in line.split(":")[1].split(",") for line in f)


def pid_of(isula, ref):
    return isula.inspect(ref)["State"]["Pid"]


def run(isula, container, *opts):
    return container("run", "-d", "--name", "res-" + uuid.uuid4().hex[:8], *opts, "busybox", "sleep", "300")


def huge_page_sizes():
    d = "/sys/kernel/mm/hugepages"
    return sorted(int(n[len("hugepages-"):-2]) for n in os.listdir(d)) if os.path.isdir(d) else []


def page_name(kb):
    return "%dGB" % (kb >> 20) if kb % (1 << 20) == 0 else "%dMB" % (kb >> 10) if kb % 1024 == 0 else "%dKB" % kb


def block_device():
    for name in sorted(os.listdir("/sys/block")):
        if not name.startswith(("loop", "ram")):
            with open("/sys/block/%s/dev" % name) as f:
                return "/dev/" + name, f.read().strip()
    pytest.skip("no block device")


# ---- run -------------------------------------------------------------------------------------------------------


def test_memory_options_and_reservation_default(isula, container):
    cid = run(isula, container, "-m", "64m", "--memory-swap", "128m", "--memory-swappiness", "20")
    pid = pid_of(isula, cid)
    assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(64 << 20)
    # the guide (L1904-1906): the reservation defaults to --memory
    assert cg_read(pid, "memory", "memory.soft_limit_in_bytes") == str(64 << 20)
    assert cg_read(pid, "memory", "memory.memsw.limit_in_bytes") == str(128 << 20)
    assert cg_read(pid, "memory", "memory.swappiness") == "20"
    cid2 = run(isula, container, "-m", "64m", "--memory-reservation", "32m", "--oom-kill-disable")
    pid2 = pid_of(isula, cid2)
    assert cg_read(pid2, "memory", "memory.soft_limit_in_bytes") == str(32 << 20)
    assert "oom_kill_disable 1" in cg_read(pid2, "memory", "memory.oom_control")
    hc = isula.inspect(cid2)["HostConfig"]
    assert hc["MemoryReservation"] == 32 << 20 and hc["OomKillDisable"] is True


def test_cpu_options(isula, container):
    cid = run(isula, container, "--cpus", "1.5", "--cpu-shares", "256")
    pid = pid_of(isula, cid)
    assert cg_read(pid, "cpu", "cpu.cfs_quota_us") == "150000"
    assert cg_read(pid, "cpu", "cpu.cfs_period_us") == "100000"
    assert cg_read(pid, "cpu", "cpu.shares") == "256"
    assert isula.inspect(cid)["HostConfig"]["NanoCpus"] == 1500000000
    assert isula.inspect(cid)["HostConfig"]["CPUShares"] == 256
    cid2 = run(isula, container, "--cpuset-cpus", "0", "--cpuset-mems", "0")
    assert cg_read(pid_of(isula, cid2), "cpuset", "cpuset.cpus") == "0"
    assert cg_read(pid_of(isula, cid2), "cpuset", "cpuset.mems") == "0"


def test_cpu_realtime(isula, container):
    if not host_has_v1("cpu") or not os.path.exists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us"):
        r = isula("run", "--rm", "--cpu-rt-runtime", "1000", "busybox", "true")
        assert r.returncode == 125 and "does not support cgroup cpu real-time runtime" in r.stderr
        return
    cid = run(isula, container, "--cpu-rt-period", "100000", "--cpu-rt-runtime", "1000")
    pid = pid_of(isula, cid)
    assert cg_read(pid, "cpu", "cpu.rt_period_us") == "100000"
    assert cg_read(pid, "cpu", "cpu.rt_runtime_us") == "1000"
    isula.ok("update", "--cpu-rt-runtime", "3000", cid)
    assert cg_read(pid, "cpu", "cpu.rt_runtime_us") == "3000"
    assert isula.inspect(cid)["HostConfig"]["CPURealtimeRuntime"] == 3000
    r = isula("run", "--rm", "--cpu-rt-period", "1000", "--cpu-rt-runtime", "2000", "busybox", "true")
    assert r.returncode == 125 and "cpu-rt-runtime cannot be higher than cpu-rt-period" in r.stderr


def test_blkio_throttles(isula, container):
    dev, majmin = block_device()
    cid = run(isula, container, "--device-read-bps", dev + ":1mb", "--device-write-bps", dev + ":2mb",
              "--device-read-iops", dev + ":100", "--device-write-iops", dev + ":200")
    pid = pid_of(isula, cid)
    assert cg_read(pid, "blkio", "blkio.throttle.read_bps_device") == "%s %d" % (majmin, 1 << 20)
    assert cg_read(pid, "blkio", "blkio.throttle.write_bps_device") == "%s %d" % (majmin, 2 << 20)
    assert cg_read(pid, "blkio", "blkio.throttle.read_iops_device") == majmin + " 100"
    assert cg_read(pid, "blkio", "blkio.throttle.write_iops_device") == majmin + " 200"
    hc = isula.inspect(cid)["HostConfig"]
    assert hc["BlkioDeviceReadBps"] == [{"Path": dev, "Rate": 1 << 20}]
    assert hc["BlkioDeviceWriteIOps"] == [{"Path": dev, "Rate": 200}]


def blkio_weight_files():
    """The v1 weight files a container's cgroup gets: CFQ's, or BFQ's (which exist below the root only: its
    statistics at the root tell that the policy is there), None when neither."""
    root = "/sys/fs/cgroup/blkio"
    if os.path.exists(root + "/blkio.weight"):
        return "blkio.weight", "blkio.weight_device"
    if os.path.exists(root + "/blkio.bfq.io_service_bytes"):
        return "blkio.bfq.weight", "blkio.bfq.weight_device"
    return None


def scheduler_of(majmin):
    with open("/sys/dev/block/%s/queue/scheduler" % majmin) as f:
        return f.read()


def test_blkio_weight(isula, container):
    files = blkio_weight_files() if host_has_v1("blkio") else None
    if files is None:
        r = isula("run", "--rm", "--blkio-weight", "300", "busybox", "true")
        assert r.returncode == 125 and "does not support Block I/O weight" in r.stderr
        return
    cid = run(isula, container, "--blkio-weight", "300")
    pid = pid_of(isula, cid)
    assert cg_read(pid, "blkio", files[0]) == "300"
    assert isula.inspect(cid)["HostConfig"]["BlkioWeight"] == 300
    isula.ok("update", "--blkio-weight", "700", cid)
    assert cg_read(pid, "blkio", files[0]) == "700"
    assert isula.inspect(cid)["HostConfig"]["BlkioWeight"] == 700
    r = isula("update", "--blkio-weight", "5", cid)
    assert r.returncode != 0 and "Range of blkio weight is from 10 to 1000" in r.stderr
    assert cg_read(pid, "blkio", files[0]) == "700"


def test_blkio_weight_range(isula):
    r = isula("run", "--rm", "--blkio-weight", "5", "busybox", "true")
    assert r.returncode == 125 and "Range of blkio weight is from 10 to 1000" in r.stderr
    dev, _ = block_device()
    r = isula("run", "--rm", "--blkio-weight-device", dev + ":1001", "busybox", "true")
    assert r.returncode == 125 and "Range of blkio weight is from 10 to 1000" in r.stderr


@pytest.fixture
def bfq_loop(tmp_path):
    """A loop device of the test's own with the bfq scheduler (a device the host uses keeps its scheduler)."""
    if subprocess.run(["which", "losetup"], capture_output=True).returncode != 0:
        pytest.skip("no losetup")
    img = tmp_path / "res2-bfq.img"
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    dev = subprocess.run(["losetup", "-f", "--show", str(img)], capture_output=True, text=True)
    if dev.returncode != 0:
        pytest.skip("no free loop device: " + dev.stderr)
    dev = dev.stdout.strip()
    try:
        name = os.path.basename(dev)
        with open("/sys/block/%s/dev" % name) as f:
            majmin = f.read().strip()
        if "bfq" not in scheduler_of(majmin):
            pytest.skip("the kernel has no bfq scheduler")
        with open("/sys/block/%s/queue/scheduler" % name, "w") as f:
            f.write("bfq")
        yield dev, majmin
    finally:
        subprocess.run(["losetup", "-d", dev])


def test_blkio_weight_device(isula, container, bfq_loop):
    files = blkio_weight_files() if host_has_v1("blkio") else None
    if files is None or files[1] != "blkio.bfq.weight_device":
        pytest.skip("the host's blkio weights are not BFQ's")
    dev, majmin = bfq_loop
    cid = run(isula, container, "--blkio-weight-device", dev + ":250")
    lines = cg_read(pid_of(isula, cid), "blkio", files[1]).splitlines()
    assert "%s 250" % majmin in lines, lines
    assert isula.inspect(cid)["HostConfig"]["BlkioWeightDevice"] == [{"Path": dev, "Weight": 250}]
    # a device whose scheduler is not bfq cannot take a weight: a clear refusal at create, nothing left behind
    other, other_mm = block_device()
    if "[bfq]" not in scheduler_of(other_mm):
        name = "res2-w-" + uuid.uuid4().hex[:8]
        r = isula("run", "--rm", "--name", name, "--blkio-weight-device", other + ":250", "busybox", "true")
        assert r.returncode == 125 and "its I/O scheduler is not bfq" in r.stderr, r.stderr
        assert isula("inspect", name).returncode != 0


def test_pids_limit(isula, container):
    cid = run(isula, container, "--pids-limit", "20")
    assert cg_read(pid_of(isula, cid), "pids", "pids.max") == "20"
    cid2 = run(isula, container, "--pids-limit", "-1")
    assert cg_read(pid_of(isula, cid2), "pids", "pids.max") == "max"


def test_hugetlb_every_page_size(isula, container):
    sizes = huge_page_sizes()
    if not sizes:
        pytest.skip("no huge pages on this host")
    opts = []
    for kb in sizes:
        opts += ["--hugetlb-limit", "%s:%d" % (page_name(kb), kb * 1024 * 4)]
    cid = run(isula, container, *opts)
    pid = pid_of(isula, cid)
    v1 = host_has_v1("hugetlb")
    for kb in sizes:
        f = "hugetlb.%s.%s" % (page_name(kb), "limit_in_bytes" if v1 else "max")
        assert cg_read(pid, "hugetlb", f) == str(kb * 1024 * 4)
    # no size: the host's default huge page size
    cid2 = run(isula, container, "--hugetlb-limit", "8MB")
    with open("/proc/meminfo") as f:
        default_kb = int([ln for ln in f if ln.startswith("Hugepagesize:")][0].split()[1])
    f = "hugetlb.%s.%s" % (page_name(default_kb), "limit_in_bytes" if v1 else "max")
    assert cg_read(pid_of(isula, cid2), "hugetlb", f) == str((8 << 20) // (default_kb * 1024) * default_kb * 1024)
    r = isula("run", "--rm", "--hugetlb-limit", "3MB:6MB", "busybox", "true")
    assert r.returncode == 125 and "Invalid hugepage size" in r.stderr


def test_ulimits_and_shm_size(isula):
    out = isula.ok("run", "--rm", "--ulimit", "nofile=1024:2048", "--ulimit", "nproc=100", "--shm-size", "32m",
                   "busybox", "sh", "-c", "ulimit -Sn; ulimit -Hn; ulimit -u; df -k /dev/shm | tail -1")
    lines = out.splitlines()
    assert lines[:3] == ["1024", "2048", "100"]
    assert lines[3].split()[1] == str(32 * 1024)
    r = isula("run", "--rm", "--ulimit", "nofile=1024:99999999", "busybox", "true")
    assert r.returncode != 0 and r.stderr.strip()


def test_kernel_memory_and_files_limit_refused_where_absent(isula):
    r = isula("run", "--rm", "--kernel-memory", "64m", "busybox", "true")
    assert r.returncode == 125 and "does not support kernel memory limit" in r.stderr, r.stderr
    if not os.path.exists("/sys/fs/cgroup/files"):
        r = isula("run", "--rm", "--files-limit", "1024", "busybox", "true")
        assert r.returncode == 125 and "does not support files limit" in r.stderr, r.stderr


def test_negative_oom_score_adj(isula, container):
    with open("/proc/self/status") as f:
        capeff = int([ln for ln in f if ln.startswith("CapEff:")][0].split()[1], 16)
    name = "res-oom-" + uuid.uuid4().hex[:8]
    cid = run(isula, container, "--oom-score-adj", "500")
    with open("/proc/%d/oom_score_adj" % pid_of(isula, cid)) as f:
        assert f.read().strip() == "500"
    r = isula("run", "-d", "--name", name, "--oom-score-adj", "-500", "busybox", "sleep", "300", timeout=30)
    if capeff & (1 << 24):
        isula("rm", "-f", name)
        pytest.skip("root has CAP_SYS_RESOURCE here")
    assert r.returncode == 125
    assert "needs CAP_SYS_RESOURCE" in r.stderr
    # no half-made container
    assert name not in isula.ok("ps", "-a", "--format", "{{.Names}}").split()


@pytest.mark.parametrize("args,msg", [
    (["-m", "1m"], "Minimum memory limit allowed is 6MB"),
    (["-m", "64m", "--memory-reservation", "1m"], "Minimum memory reservation allowed is 4MB"),
    (["-m", "64m", "--memory-reservation", "128m"], "Minimum memory limit can not be less than memory reservation"),
    (["-m", "64m", "--memory-swap", "32m"], "Minimum memoryswap limit should be larger than memory limit"),
    (["--memory-swappiness", "101"], "valid memory swappiness range is 0-100"),
    (["--cpu-period", "500"], "CPU cfs period can not be less than 1ms"),
    (["--cpu-quota", "500"], "CPU cfs quota can not be less than 1ms"),
    (["--cpus", "1", "--cpu-quota", "50000"], "Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
    (["--oom-score-adj", "1001"], "range for oom score adj is [-1000, 1000]"),
    (["--cpuset-cpus", "4096"], "Requested CPUs are not available"),
])
def test_out_of_range(isula, args, msg):
    r = isula("run", "--rm", *args, "busybox", "true")
    assert r.returncode == 125 and msg in r.stderr, r.stderr


def test_cgroup_parent(isula, container):
    cid = run(isula, container, "--cgroup-parent", "/isd-res-test")
    pid = pid_of(isula, cid)
    assert cgroup_dir(pid, "memory") == "/sys/fs/cgroup/memory/isd-res-test/" + cid
    assert isula.inspect(cid)["HostConfig"]["CgroupParent"] == "/isd-res-test"
    isula.ok("rm", "-f", cid)
    # the runtime's delete finishes in the background; then the parent is empty and ours to remove
    deadline = time.time() + 30
    for c in V1_NAMES | {"unified", "systemd"}:
        d = "/sys/fs/cgroup/%s/isd-res-test" % c
        while os.path.isdir(d):
            try:
                os.rmdir(d)
            except OSError:
                assert time.time() < deadline, "%s stays busy" % d
                time.sleep(0.2)


# ---- update ----------------------------------------------------------------------------------------------------


def test_update_running(isula, container):
    cid = run(isula, container, "-m", "64m", "--cpu-shares", "512", "--pids-limit", "50")
    pid = pid_of(isula, cid)
    assert isula.ok("update", "-m", "128m", "--memory-swap", "256m", "--cpus", "0.5", "--cpu-shares", "1024",
                    "--pids-limit", "70", "--cpuset-cpus", "0", cid) == cid
    assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(128 << 20)
    assert cg_read(pid, "memory", "memory.soft_limit_in_bytes") == str(128 << 20)
    assert cg_read(pid, "memory", "memory.memsw.limit_in_bytes") == str(256 << 20)
    assert cg_read(pid, "cpu", "cpu.cfs_quota_us") == "50000"
    assert cg_read(pid, "cpu", "cpu.shares") == "1024"
    assert cg_read(pid, "pids", "pids.max") == "70"
    assert cg_read(pid, "cpuset", "cpuset.cpus") == "0"
    hc = isula.inspect(cid)["HostConfig"]
    # isula shows the guide's names (L2955-2967): CPUShares, CPUPeriod, CPUQuota
    assert (hc["Memory"], hc["MemorySwap"], hc["NanoCpus"], hc["CPUShares"], hc["PidsLimit"], hc["CpusetCpus"]) == \
        (128 << 20, 256 << 20, 500000000, 1024, 70, "0")
    assert "CpuShares" not in hc and hc["CPUPeriod"] == 0 and hc["CPURealtimeRuntime"] == 0
    # lowering the memory below the current swap limit, then unlimited pids
    isula.ok("update", "-m", "32m", "--pids-limit", "-1", cid)
    assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(32 << 20)
    assert cg_read(pid, "pids", "pids.max") == "max"
    r = isula("update", "-m", "512m", cid)
    assert r.returncode != 0 and "update the memoryswap at the same time" in r.stderr
    assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(32 << 20)
    isula.ok("stats", "--no-stream", cid)


def test_update_stopped_applies_at_start(isula, container):
    cid = container("create", "--name", "res-u-" + uuid.uuid4().hex[:8], "busybox", "sleep", "300")
    isula.ok("update", "-m", "48m", "--cpu-quota", "30000", cid)
    isula.ok("start", cid)
    pid = pid_of(isula, cid)
    assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(48 << 20)
    assert cg_read(pid, "cpu", "cpu.cfs_quota_us") == "30000"


def test_update_restart_policy_and_errors(isula, container):
    cid = run(isula, container)
    isula.ok("update", "--restart", "on-failure:3", cid)
    rp = isula.inspect(cid)["HostConfig"]["RestartPolicy"]
    assert rp == {"Name": "on-failure", "MaximumRetryCount": 3}
    r = isula("update", "--restart", "bogus", cid)
    assert r.returncode != 0 and "invalid restart policy" in r.stderr
    r = isula("update", "-m", "1m", cid)
    assert r.returncode != 0 and "Minimum memory limit allowed is 6MB" in r.stderr
    r = isula("update", "-m", "64m", "no-such-container-xyz")
    assert r.returncode != 0 and "No such container" in r.stderr


def test_hugetlb_smallest_page_size(isula, container):
    sizes = huge_page_sizes()
    if not sizes:
        pytest.skip("no huge pages on this host")
    kb = sizes[0]
    cid = run(isula, container, "--hugetlb-limit", "%s:%d" % (page_name(kb), kb * 1024 * 2))
    pid = pid_of(isula, cid)
    f = "hugetlb.%s.%s" % (page_name(kb), "limit_in_bytes" if host_has_v1("hugetlb") else "max")
    assert cg_read(pid, "hugetlb", f) == str(kb * 1024 * 2)


# ---- docker CLI and SDK ----------------------------------------------------------------------------------------


def docker(daemon, *args):
    env = dict(os.environ, DOCKER_CONFIG=os.path.join(daemon.base, "docker-config"))
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT"):
        env.pop(k, None)
    return subprocess.run([DOCKER, "-H", daemon.host] + [str(a) for a in args], capture_output=True, text=True,
                          env=env, timeout=60)


@pytest.mark.skipif(not os.path.exists(DOCKER), reason="docker CLI not installed")
def test_docker_cli_run_and_update(isula, daemon):
    name = "dk-res-" + uuid.uuid4().hex[:8]
    dev, majmin = block_device()
    r = docker(daemon, "run", "-d", "--name", name, "-m", "64m", "--cpus", "0.5", "--cpu-shares", "300",
               "--pids-limit", "40", "--device-write-bps", dev + ":1mb", "--device-read-iops", dev + ":50",
               "busybox", "sleep", "300")
    try:
        assert r.returncode == 0, r.stderr
        pid = pid_of(isula, name)
        assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(64 << 20)
        assert cg_read(pid, "cpu", "cpu.cfs_quota_us") == "50000"
        assert cg_read(pid, "cpu", "cpu.shares") == "300"
        assert cg_read(pid, "pids", "pids.max") == "40"
        assert cg_read(pid, "blkio", "blkio.throttle.write_bps_device") == "%s %d" % (majmin, 1 << 20)
        assert cg_read(pid, "blkio", "blkio.throttle.read_iops_device") == majmin + " 50"
        r = docker(daemon, "update", "-m", "96m", "--memory-swap", "200m", "--cpus", "1", "--pids-limit", "60",
                   "--restart", "always", name)
        assert r.returncode == 0 and r.stdout.strip() == name, r.stderr
        assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(96 << 20)
        assert cg_read(pid, "cpu", "cpu.cfs_quota_us") == "100000"
        assert cg_read(pid, "pids", "pids.max") == "60"
        hc = json.loads(docker(daemon, "inspect", name).stdout)[0]["HostConfig"]
        assert hc["Memory"] == 96 << 20 and hc["NanoCpus"] == 10 ** 9 and hc["CpuShares"] == 300
        assert hc["RestartPolicy"]["Name"] == "always"
        r = docker(daemon, "update", "--cpu-quota", "50000", name)
        assert r.returncode != 0 and "NanoCPUs has already been set" in r.stderr
    finally:
        isula("rm", "-f", name)


def test_docker_sdk_run_and_update(isula, daemon):
    dk = pytest.importorskip("docker")
    client = dk.DockerClient(base_url="unix://" + daemon.sock, version="1.41", timeout=60)
    c = client.containers.run("busybox", ["sleep", "300"], detach=True, mem_limit="64m", cpu_period=50000,
                              cpu_quota=25000, pids_limit=30, mem_reservation="16m")
    try:
        pid = pid_of(isula, c.id)
        assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(64 << 20)
        assert cg_read(pid, "memory", "memory.soft_limit_in_bytes") == str(16 << 20)
        assert cg_read(pid, "cpu", "cpu.cfs_period_us") == "50000"
        assert cg_read(pid, "pids", "pids.max") == "30"
        reply = client.api.update_container(c.id, mem_limit="80m", memswap_limit="160m", cpu_quota=40000,
                                            cpu_shares=700)
        assert reply == {"Warnings": []}
        assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(80 << 20)
        assert cg_read(pid, "cpu", "cpu.cfs_quota_us") == "40000"
        assert cg_read(pid, "cpu", "cpu.shares") == "700"
        c.reload()
        hc = c.attrs["HostConfig"]
        assert "CPUShares" not in hc and hc["CpuRealtimeRuntime"] == 0 and hc["BlkioWeightDevice"] == []
        assert (hc["Memory"], hc["MemorySwap"], hc["CpuQuota"], hc["CpuShares"]) == (80 << 20, 160 << 20, 40000, 700)
        with pytest.raises(dk.errors.APIError) as e:
            client.api.update_container(c.id, mem_limit="1m")
        assert e.value.status_code == 400
    finally:
        c.remove(force=True)
        client.close()


def test_daemon_cgroup_parent_and_default_ulimits(new_daemon):
    from conftest import Isula
    d = new_daemon(extra_args=["--cgroup-parent", "/isd-res-dparent"],
                   config={"default-ulimits": {"nofile": {"Name": "nofile", "Soft": 1000, "Hard": 2000}}})
    d.start()
    isula = Isula(d)
    cid = isula.ok("run", "-d", "busybox", "sleep", "300")
    try:
        pid = pid_of(isula, cid)
        assert cgroup_dir(pid, "memory") == "/sys/fs/cgroup/memory/isd-res-dparent/" + cid
        with open("/proc/%d/limits" % pid) as f:
            line = [ln for ln in f if ln.startswith("Max open files")][0].split()
        assert line[3:5] == ["1000", "2000"]
        # a container's own parent wins
        cid2 = isula.ok("run", "-d", "--cgroup-parent", "/isd-res-cparent", "busybox", "sleep", "300")
        assert cgroup_dir(pid_of(isula, cid2), "pids") == "/sys/fs/cgroup/pids/isd-res-cparent/" + cid2
    finally:
        isula("rm", "-f", *isula.ok("ps", "-aq", "--no-trunc").split())
        d.stop()
        deadline = time.time() + 30
        for p in ("isd-res-dparent", "isd-res-cparent"):
            for c in V1_NAMES | {"unified", "systemd"}:
                path = "/sys/fs/cgroup/%s/%s" % (c, p)
                while os.path.isdir(path):
                    try:
                        os.rmdir(path)
                    except OSError:
                        assert time.time() < deadline, "%s stays busy" % path
                        time.sleep(0.2)
