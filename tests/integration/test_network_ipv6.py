"""IPv6 on user bridge networks: `isula network create --ipv6 --subnet <v6>` and Docker's EnableIPv6 with an IPv6
IPAM pool (docker CLI, SDK). A container gets one address of each family; containers of the network reach each
other over IPv6. Traffic stays on the test's own bridge: private ULA subnets (fdXX:...::/64) no route of the host
overlaps, no masquerading (IPv6 is never masqueraded). The bridge plugin turns on the host's IPv6 forwarding for
a gateway network (as Docker does); the tests put the setting back as they found it.
"""
import ipaddress
import json
import os
import subprocess
import uuid

import pytest

import conftest
from subnets import free_subnet6
from test_network import DOCKER, Nets, bridge_ports, lease_files, nets, wait_until  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/usr/lib/cni/bridge")
                                or not os.path.exists("/proc/net/if_inet6"),
                                reason="needs root, IPv6 and Debian's containernetworking-plugins")

FORWARDING = "/proc/sys/net/ipv6/conf/all/forwarding"


@pytest.fixture(autouse=True)
def keep_forwarding():
    with open(FORWARDING) as f:
        was = f.read().strip()
    yield
    with open(FORWARDING, "w") as f:
        f.write(was)


def v6_rules(network):
    out = subprocess.run(["ip6tables-save"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if '"isulad:%s"' % network in line]


def test_two_containers_ping_over_ipv6(isula, daemon, nets):
    sub6 = free_subnet6()
    net, bridge, subnet = nets.network("--ipv6", "--subnet", str(sub6))
    info = json.loads(isula.ok("network", "inspect", net))[0]
    assert info["EnableIPv6"] is True
    assert {"Subnet": str(sub6), "Gateway": str(sub6.network_address + 1)} in info["IPAM"]["Config"]
    assert {"Subnet": str(subnet), "Gateway": str(subnet.network_address + 1)} in info["IPAM"]["Config"]
    assert v6_rules(net) == []  # made with the first container

    a = nets.name()
    isula.ok("run", "-d", "--name", a, "--net", net, "busybox", "sh", "-c",
             "while true; do echo hello-over-v6 | nc -l -p 8080; done")
    ep = isula.inspect(a)["NetworkSettings"]["Networks"][net]
    a6 = ep["GlobalIPv6Address"]
    assert ipaddress.ip_address(a6) in sub6 and ep["GlobalIPv6PrefixLen"] == 64
    assert ep["IPv6Gateway"] == str(sub6.network_address + 1)
    assert ipaddress.ip_address(ep["IPAddress"]) in subnet
    assert any("-A FORWARD -i %s " % bridge in r for r in v6_rules(net))
    out = isula.ok("run", "--rm", "--net", net, "busybox", "sh", "-c",
                   "ip -6 -o addr show eth0 scope global; ping -6 -c 2 -W 5 %s" % a6)
    assert str(sub6.network_address)[:-1] in out.splitlines()[0]
    assert "2 packets received" in out, out
    out = isula.ok("run", "--rm", "--net", net, "busybox", "sh", "-c",
                   "for i in 1 2 3 4 5 6 7 8 9 10; do nc %s 8080 </dev/null && exit 0; sleep 0.2; done; exit 1" % a6)
    assert "hello-over-v6" in out
    listed = json.loads(isula.ok("network", "inspect", net))[0]["Containers"]
    assert list(listed.values())[0]["IPv6Address"] == "%s/64" % a6

    isula.ok("rm", "-f", a)
    assert lease_files(daemon, net) == []
    assert bridge_ports(bridge) == []
    isula.ok("network", "rm", net)
    assert v6_rules(net) == []


def test_ipv6_errors(isula, nets):
    sub6 = free_subnet6()
    name = "it-net-" + uuid.uuid4().hex[:8]
    r = isula("network", "create", "--subnet", str(sub6), name)
    assert r.returncode != 0 and "IPv6 enabled" in r.stderr, r.stderr
    r = isula("network", "create", "--ipv6", name)
    assert r.returncode != 0 and "no default IPv6 pool" in r.stderr, r.stderr
    r = isula("network", "create", "--ipv6", "--subnet", "fd00::/127", name)
    assert r.returncode != 0 and "invalid CIDR address" in r.stderr, r.stderr
    net, _, _ = nets.network("--ipv6", "--subnet", str(sub6))
    inner = ipaddress.ip_network((sub6.network_address, 80))
    r = isula("network", "create", "--ipv6", "--subnet", str(inner), name)
    assert r.returncode != 0 and "overlaps" in r.stderr and net in r.stderr, r.stderr
    assert name not in isula.ok("network", "ls")


def test_ipv6_from_docker_cli_and_sdk(daemon, nets):
    import docker as docker_sdk
    from test_network import free_subnet
    env = dict(os.environ, DOCKER_CONFIG=os.path.join(daemon.base, "docker-config"))
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(k, None)

    def docker(*args):
        return subprocess.run([DOCKER, "-H", daemon.host] + list(args), capture_output=True, text=True, env=env,
                              timeout=60)

    sub6 = free_subnet6()
    name = "it-net-" + uuid.uuid4().hex[:8]
    bridge = "isdt" + uuid.uuid4().hex[:8]
    nets.networks.append(name)
    nets.bridges.append(bridge)
    r = docker("network", "create", "--ipv6", "--subnet", str(sub6), "-o", "com.docker.network.bridge.name=" + bridge,
               name)
    assert r.returncode == 0, r.stderr
    info = json.loads(docker("network", "inspect", name).stdout)[0]
    assert info["EnableIPv6"] is True and str(sub6) in [c["Subnet"] for c in info["IPAM"]["Config"]]
    c = nets.name()
    r = docker("run", "-d", "--name", c, "--network", name, "busybox", "sleep", "300")
    assert r.returncode == 0, r.stderr
    ins = json.loads(docker("inspect", c).stdout)[0]
    a6 = ins["NetworkSettings"]["Networks"][name]["GlobalIPv6Address"]
    assert ipaddress.ip_address(a6) in sub6

    client = docker_sdk.DockerClient(base_url="unix://" + daemon.sock, version="1.41", timeout=60)
    sdk_name = "it-sdk-" + uuid.uuid4().hex[:8]
    sdk_bridge = "isdt" + uuid.uuid4().hex[:8]
    sdk6, sdk4 = free_subnet6(), free_subnet()
    nets.networks.append(sdk_name)
    nets.bridges.append(sdk_bridge)
    try:
        ipam = docker_sdk.types.IPAMConfig(pool_configs=[docker_sdk.types.IPAMPool(subnet=str(sdk4)),
                                                         docker_sdk.types.IPAMPool(subnet=str(sdk6))])
        client.networks.create(sdk_name, driver="bridge", enable_ipv6=True, ipam=ipam,
                               options={"com.docker.network.bridge.name": sdk_bridge})
        assert client.networks.get(sdk_name).attrs["EnableIPv6"] is True
        out = client.containers.run("busybox", ["sh", "-c", "ip -6 -o addr show eth0 scope global; ip -4 -o addr "
                                                "show eth0; ping -6 -c 1 -W 5 %s >/dev/null || echo no-v6-reply" % a6],
                                    network=name, remove=True).decode()
        assert str(sub6.network_address)[:-1] in out and "no-v6-reply" not in out, out
        out = client.containers.run("busybox", ["ip", "-6", "-o", "addr", "show", "eth0", "scope", "global"],
                                    network=sdk_name, remove=True).decode()
        assert str(sdk6.network_address)[:-1] in out, out
    finally:
        client.close()


def test_fixed_ipv6_address_with_ip6(isula, daemon, nets):
    """--ip6 (Docker's EndpointConfig.IPAMConfig.IPv6Address) with and without --ip; bad ones refused."""
    sub6 = free_subnet6()
    net, bridge, subnet = nets.network("--ipv6", "--subnet", str(sub6))
    want6 = str(sub6.network_address + 0x42)
    want4 = str(subnet.network_address + 77)
    a = nets.name()
    isula.ok("run", "-d", "--name", a, "--net", net, "--ip", want4, "--ip6", want6, "busybox", "sleep", "300")
    ep = isula.inspect(a)["NetworkSettings"]["Networks"][net]
    assert ep["GlobalIPv6Address"] == want6 and ep["IPAddress"] == want4
    assert ep["IPAMConfig"]["IPv6Address"] == want6
    assert want6 + "/64" in isula.ok("exec", a, "ip", "-6", "-o", "addr", "show", "eth0", "scope", "global")
    b = nets.name()
    isula.ok("run", "-d", "--name", b, "--net", net, "--ip6", str(sub6.network_address + 0x43), "busybox", "sleep",
             "300")
    ep = isula.inspect(b)["NetworkSettings"]["Networks"][net]
    assert ep["GlobalIPv6Address"] == str(sub6.network_address + 0x43)
    assert ipaddress.ip_address(ep["IPAddress"]) in subnet
    # taken, outside the subnet, not IPv6, a network without IPv6
    r = isula("run", "-d", "--net", net, "--ip6", want6, "busybox", "true")
    assert r.returncode != 0 and want6 in r.stderr, r.stderr
    r = isula("run", "-d", "--net", net, "--ip6", "fd00:1:2:3::9", "busybox", "true")
    assert r.returncode != 0 and "is not in network" in r.stderr, r.stderr
    r = isula("run", "-d", "--net", net, "--ip6", "10.1.2.3", "busybox", "true")
    assert r.returncode != 0 and "invalid IPv6 address" in r.stderr, r.stderr
    v4net, _, _ = nets.network()
    r = isula("run", "-d", "--net", v4net, "--ip6", want6, "busybox", "true")
    assert r.returncode != 0 and "has no IPv6" in r.stderr, r.stderr
    # network connect --ip6 (hot, as eth1)
    net2, _, _ = nets.network("--ipv6", "--subnet", str(free_subnet6()))
    sub6b = ipaddress.ip_network(json.loads(isula.ok("network", "inspect", net2))[0]["IPAM"]["Config"][1]["Subnet"])
    want6b = str(sub6b.network_address + 0x51)
    isula.ok("network", "connect", "--ip6", want6b, net2, a)
    assert isula.inspect(a)["NetworkSettings"]["Networks"][net2]["GlobalIPv6Address"] == want6b
    assert want6b + "/64" in isula.ok("exec", a, "ip", "-6", "-o", "addr", "show", "eth1", "scope", "global")
    isula.ok("rm", "-f", a, b)
    assert lease_files(daemon, net) == [] and lease_files(daemon, net2) == []


def test_ip6_from_docker_cli(daemon, nets, isula):
    env = dict(os.environ, DOCKER_CONFIG=os.path.join(daemon.base, "docker-config"))
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(k, None)
    sub6 = free_subnet6()
    net, _, _ = nets.network("--ipv6", "--subnet", str(sub6))
    want6 = str(sub6.network_address + 0x99)
    c = nets.name()
    r = subprocess.run([DOCKER, "-H", daemon.host, "run", "-d", "--name", c, "--network", net, "--ip6", want6,
                        "busybox", "sleep", "300"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    ins = json.loads(subprocess.run([DOCKER, "-H", daemon.host, "inspect", c], capture_output=True, text=True,
                                    env=env, timeout=60).stdout)[0]
    assert ins["NetworkSettings"]["Networks"][net]["GlobalIPv6Address"] == want6


def v6_port_chains():
    out = subprocess.run(["ip6tables-save", "-t", "nat"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.startswith(":ISD-")]


def http_get6(addr, port):
    import urllib.request

    def get():
        try:
            with urllib.request.urlopen("http://[%s]:%d/index.html" % (addr, port), timeout=2) as r:
                return r.read().decode()
        except OSError:
            return None
    return wait_until(get, "http on [%s]:%d" % (addr, port), timeout=15)


def test_published_ports_over_ipv6(isula, nets):
    """-p host:ctr on an IPv6 network is DNAT'ed for the host's IPv6 addresses too (ip6tables, isulad's own chains);
    -p [addr]:host:ctr for that IPv6 address only; [::1] is refused with the reason. The host reaches the container
    through its own address on the test's bridge (the gateway), and 127.0.0.1 as before."""
    from test_network import HTTPD, free_port, http_get
    sub6 = free_subnet6()
    net, bridge, subnet = nets.network("--ipv6", "--subnet", str(sub6))
    gw6 = str(sub6.network_address + 1)
    before = set(v6_port_chains())
    a = nets.name()
    port, port6 = free_port(), free_port()
    isula.ok("run", "-d", "--name", a, "--net", net, "-p", "%d:80" % port, "-p", "[%s]:%d:80" % (gw6, port6),
             "busybox", "sh", "-c", HTTPD)
    assert "hello-" in http_get(port)
    assert "hello-" in http_get6(gw6, port)
    assert "hello-" in http_get6(gw6, port6)
    ports = isula.inspect(a)["NetworkSettings"]["Ports"]["80/tcp"]
    assert {"HostIp": gw6, "HostPort": str(port6)} in ports
    assert {"HostIp": "0.0.0.0", "HostPort": str(port)} in ports
    assert len(set(v6_port_chains()) - before) == 2
    # the IPv6-only binding is not published on IPv4
    import urllib.request
    with pytest.raises(OSError):
        urllib.request.urlopen("http://127.0.0.1:%d/index.html" % port6, timeout=2)

    r = isula("run", "-d", "--net", net, "-p", "[::1]:%d:80" % free_port(), "busybox", "true")
    assert r.returncode != 0 and "::1" in r.stderr and "IPv6 loopback" in r.stderr, r.stderr
    # an IPv6 host address on a network without IPv6
    v4net, _, _ = nets.network()
    r = isula("run", "-d", "--net", v4net, "-p", "[%s]:%d:80" % (gw6, free_port()), "busybox", "true")
    assert r.returncode != 0 and "IPv6" in r.stderr, r.stderr
    isula.ok("rm", "-f", a)
    assert set(v6_port_chains()) - before == set()


def test_default_bridge_with_ipv6(new_daemon):
    """Docker's daemon flags --ipv6 --fixed-cidr-v6: the default network (the docker CLI's, no --network) gets the
    IPv6 subnet too; --ipv6 alone refuses to start with the reason; the same key in daemon.json."""
    sub6 = free_subnet6()
    bad = new_daemon(extra_args=("--ipv6",))
    with pytest.raises(RuntimeError) as e:
        bad.start()
    assert "fixed-cidr-v6" in str(e.value)
    bad = new_daemon(extra_args=("--ipv6", "--fixed-cidr-v6", "fd00::1"))
    with pytest.raises(RuntimeError) as e:
        bad.start()
    assert "IPv6 subnet" in str(e.value)

    d = new_daemon(config={"ipv6": True, "fixed-cidr-v6": str(sub6)})
    d.start()
    env = dict(os.environ, DOCKER_CONFIG=os.path.join(d.base, "docker-config"))
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(k, None)

    def docker(*args):
        r = subprocess.run([DOCKER, "-H", d.host] + list(args), capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout

    info = json.loads(docker("network", "inspect", "bridge"))[0]
    assert info["EnableIPv6"] is True and str(sub6) in [c["Subnet"] for c in info["IPAM"]["Config"]]
    a = "it-nc-" + uuid.uuid4().hex[:8]
    docker("run", "-d", "--name", a, "busybox", "sleep", "300")
    a6 = json.loads(docker("inspect", a))[0]["NetworkSettings"]["Networks"]["bridge"]["GlobalIPv6Address"]
    assert ipaddress.ip_address(a6) in sub6
    out = docker("run", "--rm", "busybox", "sh", "-c", "ping -6 -c 1 -W 5 %s >/dev/null && echo reached" % a6)
    assert "reached" in out
    docker("rm", "-f", a)
