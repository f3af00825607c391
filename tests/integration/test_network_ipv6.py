"""IPv6 on user bridge networks: `isula network create --ipv6 --subnet <v6>` and Docker's EnableIPv6 with an IPv6
IPAM pool (docker CLI, SDK). A container gets one address of each family; containers of the network reach each
other over IPv6. Traffic stays on the test's own bridge: private ULA subnets (fdXX:...::/64) no route of the host
overlaps, no masquerading (IPv6 is never masqueraded). The bridge plugin turns on the host's IPv6 forwarding for
a gateway network (as Docker does); the tests put the setting back as they found it.
"""
import ipaddress
import json
import os
import random
import subprocess
import uuid

import pytest

import conftest
from test_network import DOCKER, Nets, bridge_ports, lease_files, nets, wait_until  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/usr/lib/cni/bridge")
                                or not os.path.exists("/proc/net/if_inet6"),
                                reason="needs root, IPv6 and Debian's containernetworking-plugins")

FORWARDING = "/proc/sys/net/ipv6/conf/all/forwarding"
HANDED_OUT6 = set()


def free_subnet6():
    out = subprocess.run(["ip", "-6", "route", "show", "table", "all"], capture_output=True, text=True).stdout
    taken = []
    for line in out.splitlines():
        w = line.split()
        dst = w[1] if w[0] in ("local", "unreachable", "anycast", "multicast", "broadcast") else w[0]
        try:
            n = ipaddress.ip_network(dst, strict=False)
            if n.prefixlen > 0:
                taken.append(n)
        except ValueError:
            pass
    for _ in range(200):
        cand = ipaddress.ip_network("fd%02x:%x:%x::/64" % (random.randint(1, 255), random.randint(1, 0xffff),
                                                            random.randint(1, 0xffff)))
        if cand not in HANDED_OUT6 and not any(cand.overlaps(t) for t in taken):
            HANDED_OUT6.add(cand)
            return cand
    raise AssertionError("no free ULA /64")


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
