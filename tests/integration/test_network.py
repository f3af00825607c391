"""Container networking on CNI: `isula network create|ls|inspect|rm`, `isula run --net <network>`, the docker
CLI's `docker network`, teardown at rm and after a crash of isulad, and bad files in cni-conf-dir.

Each test makes its own network on a private subnet (10.254.<n>.0/24, checked against the host's routes) with
a bridge named by the test, and sends traffic only between its own containers. The `nets` fixture removes
the test's containers, networks and bridges afterwards, also when the test fails.
"""
import ipaddress
import json
import os
import signal
import subprocess
import time
import uuid

import pytest

import conftest
from subnets import free_subnet  # noqa: F401 (other tests import it from here)
from conftest import Isula

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/usr/lib/cni/bridge"),
                                reason="needs root and Debian's containernetworking-plugins")


def wait_until(pred, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def link_exists(name):
    return os.path.exists("/sys/class/net/" + name)


def bridge_ports(bridge):
    d = "/sys/class/net/%s/brif" % bridge
    return os.listdir(d) if os.path.isdir(d) else []


class Nets:
    """Hands out network and container names; removes what the test made."""

    def __init__(self, isula):
        self.isula = isula
        self.containers, self.networks, self.bridges = [], [], []

    def network(self, *extra, subnet=None):
        name = "it-net-" + uuid.uuid4().hex[:8]
        bridge = "isdt" + uuid.uuid4().hex[:8]
        subnet = subnet or free_subnet()
        self.networks.append(name)
        self.bridges.append(bridge)
        self.isula.ok("network", "create", "--subnet", str(subnet), "-o",
                      "com.docker.network.bridge.name=" + bridge, *extra, name)
        return name, bridge, subnet

    def name(self):
        n = "it-nc-" + uuid.uuid4().hex[:8]
        self.containers.append(n)
        return n

    def cleanup(self):
        for c in self.containers:
            self.isula("rm", "-f", c)
        for n in self.networks:
            self.isula("network", "rm", n)
            drop_rules(n)  # what a failed rm left
        for b in self.bridges:
            if link_exists(b):
                subprocess.run(["ip", "link", "delete", b])


@pytest.fixture
def nets(isula):
    n = Nets(isula)
    yield n
    n.cleanup()


def network_rules(network):
    out = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if '"isulad:%s"' % network in line]


def drop_rules(network):
    conftest.drop_rules(lambda table, argv: conftest.rule_comment(argv) == "isulad:%s" % network)


def lease_files(daemon, network):
    d = os.path.join(daemon.graph, "network", "ipam", network)
    return sorted(f for f in os.listdir(d) if f[0].isdigit()) if os.path.isdir(d) else []


def test_two_containers_talk_over_a_bridge_network(isula, daemon, nets):
    net, bridge, subnet = nets.network()
    listed = isula.ok("network", "ls")
    assert net in listed and "bridge" in listed
    info = json.loads(isula.ok("network", "inspect", net))[0]
    assert info["Name"] == net and info["Driver"] == "bridge"
    assert info["IPAM"]["Config"][0]["Subnet"] == str(subnet)
    assert info["IPAM"]["Config"][0]["Gateway"] == str(subnet.network_address + 1)
    # a network's rules are made at its first attachment, not at create
    assert network_rules(net) == []

    srv = nets.name()
    isula.ok("run", "-d", "--name", srv, "--net", net, "--network-alias", "web-alias", "busybox", "sh", "-c",
             "while true; do echo hello-from-srv | nc -l -p 8080; done")
    rules = network_rules(net)
    assert any("-A FORWARD -i %s " % bridge in r for r in rules), rules
    # the tests' daemons run with --ip-masq=false: nothing of theirs is masqueraded to the outside
    assert not any("MASQUERADE" in r for r in rules), rules
    ins = isula.inspect(srv)
    ep = ins["NetworkSettings"]["Networks"][net]
    ip = ep["IPAddress"]
    assert ipaddress.ip_address(ip) in subnet
    assert ep["IPPrefixLen"] == 24 and ep["Gateway"] == str(subnet.network_address + 1)
    assert len(ep["MacAddress"].split(":")) == 6
    assert ep["NetworkID"] == info["Id"]
    netns = ins["NetworkSettings"]["SandboxKey"]
    assert netns.startswith(daemon.state) and os.path.exists(netns)
    assert lease_files(daemon, net) == [ip]
    assert len(bridge_ports(bridge)) == 1
    assert link_exists(bridge)

    cli = nets.name()
    out = isula.ok("run", "--rm", "--net", net, "busybox", "sh", "-c",
                   "ip -4 addr show eth0; ip link show lo; for i in 1 2 3 4 5 6 7 8 9 10; do "
                   "nc %s 8080 </dev/null && exit 0; sleep 0.2; done; exit 1" % ip)
    assert "hello-from-srv" in out
    assert "LOOPBACK,UP" in out
    # by name: every container of the network is in the hosts file of each, kept current
    isula.ok("run", "-d", "--name", cli, "--net", net, "busybox", "sleep", "1000")
    out = isula.ok("exec", cli, "sh", "-c",
                   "for i in 1 2 3 4 5 6 7 8 9 10; do nc %s 8080 </dev/null && exit 0; sleep 0.2; done; exit 1" % srv)
    assert "hello-from-srv" in out
    out = isula.ok("exec", cli, "sh", "-c", "nc web-alias 8080 </dev/null")
    assert "hello-from-srv" in out
    assert isula.inspect(srv)["NetworkSettings"]["Networks"][net]["Aliases"] == ["web-alias"]
    hosts = isula.ok("exec", srv, "cat", "/etc/hosts")
    assert "%s\t%s " % (ip, srv) in hosts and cli in hosts
    # the client's teardown leaves the server alone and takes the client's name out of its hosts file
    isula.ok("rm", "-f", cli)
    hosts = isula.ok("exec", srv, "cat", "/etc/hosts")
    assert "%s\t%s " % (ip, srv) in hosts and cli not in hosts
    assert lease_files(daemon, net) == [ip]
    assert len(bridge_ports(bridge)) == 1

    rm = isula("network", "rm", net)
    assert rm.returncode != 0 and "active endpoints" in rm.stderr
    inspected = json.loads(isula.ok("network", "inspect", net))[0]
    assert list(inspected["Containers"].values())[0]["Name"] == srv

    isula.ok("rm", "-f", srv)
    assert lease_files(daemon, net) == []
    assert bridge_ports(bridge) == []
    assert not os.path.exists(netns)
    assert not os.listdir(os.path.join(daemon.graph, "network", "cache"))
    isula.ok("network", "rm", net)
    assert network_rules(net) == []
    assert not link_exists(bridge)
    assert not os.path.exists(os.path.join(daemon.graph, "network", "ipam", net))
    assert net not in isula.ok("network", "ls")


def test_stop_tears_down_and_start_attaches_again(isula, daemon, nets):
    net, bridge, subnet = nets.network()
    c = nets.name()
    isula.ok("run", "-d", "--name", c, "--net", net, "busybox", "sleep", "1000")
    assert len(lease_files(daemon, net)) == 1
    isula.ok("stop", "-t", "0", c)
    wait_until(lambda: lease_files(daemon, net) == [] and bridge_ports(bridge) == [], "teardown after stop")
    # as Docker shows a stopped container: the network it is set to join, without addresses
    wait_until(lambda: isula.inspect(c)["NetworkSettings"]["Networks"][net]["IPAddress"] == "", "inspect")
    isula.ok("start", c)
    ip = isula.inspect(c)["NetworkSettings"]["Networks"][net]["IPAddress"]
    assert lease_files(daemon, net) == [ip]
    out = isula.ok("exec", c, "ip", "-4", "addr", "show", "eth0")
    assert ip in out


def test_network_errors(isula, nets):
    net, bridge, subnet = nets.network()
    r = isula("network", "create", "--subnet", str(subnet), net)
    assert r.returncode != 0 and "already exists" in r.stderr
    r = isula("network", "create", "--subnet", str(subnet), "it-net-" + uuid.uuid4().hex[:8])
    assert r.returncode != 0 and "overlaps" in r.stderr
    r = isula("network", "create", "--subnet", "10.254.1.0/33", "it-net-x")
    assert r.returncode != 0 and "invalid CIDR" in r.stderr
    r = isula("network", "create", "--subnet", "10.254.1.0/24", "--gateway", "10.9.9.1", "it-net-x")
    assert r.returncode != 0 and "gateway" in r.stderr
    r = isula("network", "create", "-d", "macvlan", "it-net-x")
    assert r.returncode != 0 and "not supported" in r.stderr
    r = isula("network", "create", "bad/name")
    assert r.returncode != 0
    c = nets.name()
    r = isula("run", "--name", c, "--net", "no-such-net", "busybox", "true")
    assert r.returncode != 0 and "network no-such-net not found" in r.stderr
    r = isula("network", "inspect", "no-such-net")
    assert r.returncode != 0 and "not found" in r.stderr
    r = isula("network", "rm", "no-such-net")
    assert r.returncode != 0 and "not found" in r.stderr


def test_ip_range_and_labels(isula, daemon, nets):
    subnet = free_subnet()
    rng = ipaddress.ip_network("%s/28" % (subnet.network_address + 64))
    net, bridge, _ = nets.network("--ip-range", str(rng), "--gateway", str(subnet.network_address + 254),
                                  "--label", "team=net", subnet=subnet)
    info = json.loads(isula.ok("network", "inspect", net))[0]
    assert info["Labels"] == {"team": "net"}
    assert info["IPAM"]["Config"][0]["IPRange"] == str(rng)
    assert net in isula.ok("network", "ls", "-q", "--filter", "label=team=net")
    assert net not in isula.ok("network", "ls", "-q", "--filter", "label=team=other")
    c = nets.name()
    isula.ok("run", "-d", "--name", c, "--net", net, "busybox", "sleep", "1000")
    ep = isula.inspect(c)["NetworkSettings"]["Networks"][net]
    assert ipaddress.ip_address(ep["IPAddress"]) in rng
    assert ep["Gateway"] == str(subnet.network_address + 254)


def host_address():
    """The host's own source address towards its default route (no packet is sent to find it)."""
    out = subprocess.run(["ip", "-4", "route", "get", "1.1.1.1"], capture_output=True, text=True).stdout.split()
    return out[out.index("src") + 1] if "src" in out else "127.0.0.1"


def test_internal_network_reaches_nothing_outside(isula, nets):
    net, bridge, subnet = nets.network("--internal")
    c = nets.name()
    # the host's other address is unreachable: no route, so the connect fails before any packet is sent
    out = isula.ok("run", "--name", c, "--net", net, "busybox", "sh", "-c",
                   "ip -4 route; ip -4 addr show eth0; nc -w 1 %s 22 </dev/null 2>&1; echo rc=$?" % host_address())
    assert "default" not in out
    assert "Network is unreachable" in out and "rc=1" in out, out
    assert str(subnet.network_address)[:-1] in out
    assert json.loads(isula.ok("network", "inspect", net))[0]["Internal"] is True
    assert not any("MASQUERADE" in r for r in network_rules(net))


def test_teardown_after_isulad_is_killed(new_daemon):
    d = new_daemon()
    d.start()
    isula = Isula(d)
    n = Nets(isula)
    try:
        net, bridge, subnet = n.network()
        c = n.name()
        isula.ok("run", "-d", "--name", c, "--net", net, "busybox", "sleep", "1000")
        pid = isula.inspect(c)["State"]["Pid"]
        assert len(lease_files(d, net)) == 1 and len(bridge_ports(bridge)) == 1
        d.stop(signal.SIGKILL)
        os.kill(pid, signal.SIGKILL)  # the container dies while isulad is away
        time.sleep(0.2)
        d.start()
        wait_until(lambda: lease_files(d, net) == [] and bridge_ports(bridge) == [], "teardown after restart")
        netns = os.path.join(d.state, "netns")
        wait_until(lambda: not os.path.isdir(netns) or os.listdir(netns) == [], "namespace removed")
        assert isula.inspect(c)["State"]["Status"] == "exited"
    finally:
        n.cleanup()


def test_cni_conf_dir_bad_files_are_skipped(new_daemon, tmp_path):
    conf = tmp_path / "net.d"
    conf.mkdir()
    (conf / "10-lo.conf").write_text(json.dumps({"cniVersion": "0.4.0", "name": "it-lo", "type": "loopback"}))
    (conf / "20-bad.conflist").write_text("{not json")
    (conf / "30-dots.conf").write_text(json.dumps({"cniVersion": "0.3.1", "name": "a..b", "type": "loopback"}))
    (conf / "40-old.conf").write_text(json.dumps({"cniVersion": "0.2.0", "name": "old", "type": "loopback"}))
    (conf / "50-big.conf").write_text(" " * (2 << 20))
    (conf / "60-noplugin.conf").write_text(json.dumps({"cniVersion": "1.0.0", "name": "np", "type": "nosuch"}))
    d = new_daemon(extra_args=("--cni-conf-dir", str(conf), "--network-plugin", "cni"))
    d.start()
    isula = Isula(d)
    log = d.read_log()
    assert "20-bad.conflist" in log
    assert "30-dots.conf" in log and "invalid network name" in log
    assert "40-old.conf" in log and "0.2.0" in log and "not supported" in log
    assert "50-big.conf" in log and "larger than" in log
    # a network of cni-conf-dir is joined by name; a bad one is "not found"; an unknown plugin a clear error
    out = isula.ok("run", "--rm", "--net", "it-lo", "busybox", "sh", "-c", "ip link show; ip -4 addr")
    assert "127.0.0.1" in out and "eth0" not in out
    r = isula("run", "--rm", "--net", "a..b", "busybox", "true")
    assert r.returncode != 0 and "not found" in r.stderr
    r = isula("run", "--rm", "--net", "np", "busybox", "true")
    assert r.returncode != 0 and "failed to find plugin `nosuch`" in r.stderr
    assert os.listdir(os.path.join(d.state, "netns")) == []
    assert isula("version").returncode == 0


DOCKER = "/usr/local/bin/docker"


@pytest.mark.skipif(not os.path.exists(DOCKER), reason="docker CLI not installed")
def test_docker_network_commands(daemon, isula, nets):
    env = dict(os.environ, DOCKER_CONFIG=os.path.join(daemon.base, "docker-config"))
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(k, None)

    def docker(*args):
        return subprocess.run([DOCKER, "-H", daemon.host] + list(args), capture_output=True, text=True, env=env,
                              timeout=60)

    name = "it-dk-" + uuid.uuid4().hex[:8]
    bridge = "isdt" + uuid.uuid4().hex[:8]
    subnet = free_subnet()
    nets.networks.append(name)
    nets.bridges.append(bridge)
    r = docker("network", "create", "--subnet", str(subnet), "-o", "com.docker.network.bridge.name=" + bridge,
               "--label", "a=b", name)
    assert r.returncode == 0, r.stderr
    net_id = r.stdout.strip()
    assert len(net_id) == 64
    r = docker("network", "ls", "--filter", "label=a=b", "--format", "{{.Name}} {{.Driver}}")
    assert r.returncode == 0 and r.stdout.split() == [name, "bridge"], (r.stdout, r.stderr)
    r = docker("network", "inspect", name)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["Id"] == net_id
    c = nets.name()
    # inspected while it runs: a stopped container's endpoint has no address any more (as in Docker)
    r = docker("run", "-d", "--name", c, "--network", name, "--network-alias", "dk-alias", "busybox", "sleep", "60")
    assert r.returncode == 0, r.stderr
    r = docker("exec", c, "sh", "-c", "ip -4 addr show eth0; grep dk-alias /etc/hosts")
    assert r.returncode == 0 and " dk-alias" in r.stdout, (r.stdout, r.stderr)
    shown = r.stdout
    r = docker("inspect", "-f", "{{(index .NetworkSettings.Networks \"%s\").IPAddress}}" % name, c)
    assert r.returncode == 0 and ipaddress.ip_address(r.stdout.strip()) in subnet, (r.stdout, r.stderr)
    assert "inet %s/" % r.stdout.strip() in shown
    docker("rm", "-f", c)
    r = docker("network", "rm", name)
    assert r.returncode == 0, r.stderr
    assert not link_exists(bridge)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(port, path="/index.html"):
    import urllib.request

    def get():
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=2) as r:
                return r.read().decode()
        except OSError:
            return None
    return wait_until(get, "http on 127.0.0.1:%d" % port, timeout=15)


HTTPD = "mkdir -p /www && echo hello-$HOSTNAME > /www/index.html && exec httpd -f -p 80 -h /www"


def nat_rules_for(ip):
    out = subprocess.run(["iptables-save", "-t", "nat"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if ip + "/" in line or ip + ":" in line]


def test_published_port_serves_the_host(isula, nets):
    net, bridge, subnet = nets.network()
    port = free_port()
    c = nets.name()
    isula.ok("run", "-d", "--name", c, "--hostname", "web1", "--net", net, "-p", "127.0.0.1:%d:80" % port, "busybox",
             "sh", "-c", HTTPD)
    assert http_get(port) == "hello-web1\n"
    ports = isula.inspect(c)["NetworkSettings"]["Ports"]
    assert ports == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    assert isula.ok("port", c) == "80/tcp -> 127.0.0.1:%d" % port
    assert isula.ok("port", c, "80") == "127.0.0.1:%d" % port
    ip = isula.inspect(c)["NetworkSettings"]["Networks"][net]["IPAddress"]
    assert nat_rules_for(ip)
    assert isula.ok("port", c, "80") == "127.0.0.1:%d" % port

    # the same host port again: a clear error, and the first container keeps serving
    other = nets.name()
    r = isula("run", "-d", "--name", other, "--net", net, "-p", "127.0.0.1:%d:80" % port, "busybox", "sleep", "100")
    assert r.returncode != 0 and "port is already allocated" in r.stderr, r.stderr
    assert http_get(port) == "hello-web1\n"

    isula.ok("rm", "-f", c)
    assert nat_rules_for(ip) == []


def test_random_and_all_published_ports(isula, nets):
    net, bridge, subnet = nets.network()
    c = nets.name()
    isula.ok("run", "-d", "--name", c, "--hostname", "web2", "--net", net, "-p", "80", "--expose", "8081", "busybox",
             "sh", "-c", HTTPD)
    ports = isula.inspect(c)["NetworkSettings"]["Ports"]
    assert ports["8081/tcp"] is None
    port = int(ports["80/tcp"][0]["HostPort"])
    assert ports["80/tcp"][0]["HostIp"] == "0.0.0.0" and port > 0
    assert http_get(port) == "hello-web2\n"

    c2 = nets.name()
    isula.ok("run", "-d", "--name", c2, "--hostname", "web3", "--net", net, "-P", "--expose", "80", "busybox",
             "sh", "-c", HTTPD)
    port2 = int(isula.inspect(c2)["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"])
    assert port2 != port
    assert http_get(port2) == "hello-web3\n"


def test_port_taken_by_a_host_socket(isula, nets):
    import socket
    net, bridge, subnet = nets.network()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    try:
        port = s.getsockname()[1]
        c = nets.name()
        r = isula("run", "-d", "--name", c, "--net", net, "-p", "127.0.0.1:%d:80" % port, "busybox", "sleep", "100")
        assert r.returncode != 0 and "Bind for 127.0.0.1:%d failed: port is already allocated" % port in r.stderr
        assert lease_files(isula.daemon, net) == []
    finally:
        s.close()


def test_many_cycles_in_parallel_leave_nothing_behind(isula, daemon, nets):
    """200 run --rm on one network, 8 at a time: every one gets an address, and afterwards no namespace,
    veth, lease, cache entry or per-container iptables rule is left."""
    from concurrent.futures import ThreadPoolExecutor
    net, bridge, subnet = nets.network()

    def container_rules():
        out = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout.splitlines()
        prefix = str(subnet.network_address)[:-1]
        return [r for r in out if (prefix in r or bridge in r) and '"isulad:%s"' % net not in r]

    def one(i):
        r = isula("run", "--rm", "--net", net, "busybox", "sh", "-c", "ip -4 -o addr show eth0", timeout=120)
        return r.returncode, r.stdout, r.stderr

    with ThreadPoolExecutor(8) as ex:
        results = list(ex.map(one, range(200)))
    failed = [r for r in results if r[0] != 0 or str(subnet.network_address)[:-1] not in r[1]]
    assert not failed, failed[:3]
    assert lease_files(daemon, net) == []
    assert bridge_ports(bridge) == []
    assert os.listdir(os.path.join(daemon.state, "netns")) == []
    assert os.listdir(os.path.join(daemon.graph, "network", "cache")) == []
    assert container_rules() == []


def test_prune_removes_unused_networks_only(isula, nets):
    used, used_bridge, _ = nets.network("--label", "it-prune=1")
    unused, unused_bridge, _ = nets.network("--label", "it-prune=1")
    other, other_bridge, _ = nets.network()
    c = nets.name()
    isula.ok("run", "-d", "--name", c, "--net", used, "busybox", "sleep", "1000")
    out = isula.ok("network", "prune", "--filter", "label=it-prune=1")
    assert out.splitlines() == ["Deleted Networks:", unused]
    names = isula.ok("network", "ls", "-q").split()
    assert used in names and other in names and unused not in names
    assert network_rules(unused) == [] and not link_exists(unused_bridge)


docker_sdk = None
try:
    import docker as docker_sdk
except ImportError:
    pass


@pytest.mark.skipif(docker_sdk is None, reason="python3-docker not installed")
def test_docker_sdk_networks(daemon, nets):
    client = docker_sdk.DockerClient(base_url="unix://" + daemon.sock, version="1.41", timeout=60)
    name = "it-sdk-" + uuid.uuid4().hex[:8]
    bridge = "isdt" + uuid.uuid4().hex[:8]
    subnet = free_subnet()
    nets.networks.append(name)
    nets.bridges.append(bridge)
    try:
        pool = docker_sdk.types.IPAMPool(subnet=str(subnet), gateway=str(subnet.network_address + 1))
        net = client.networks.create(name, driver="bridge", ipam=docker_sdk.types.IPAMConfig(pool_configs=[pool]),
                                     options={"com.docker.network.bridge.name": bridge}, labels={"sdk": "yes"})
        assert net.name == name and net.attrs["Labels"] == {"sdk": "yes"}
        assert name in [n.name for n in client.networks.list(filters={"label": "sdk=yes"})]
        c = nets.name()
        out = client.containers.run("busybox", ["ip", "-4", "-o", "addr", "show", "eth0"], name=c, network=name)
        assert str(subnet.network_address)[:-1] in out.decode()
        client.containers.get(c).remove()
        client.networks.get(name).remove()
        assert name not in [n.name for n in client.networks.list()]
    finally:
        client.close()
