"""Networks, continued: `network connect` / `disconnect` (a container on several networks, one interface each:
eth0, eth1, ...; hot on a running container, kept across restarts of the container and of isulad), `--ip` and
`--mac-address` (isula, docker CLI, SDK), with the errors a user meets.

Helpers and cleanup come from test_network.py: each test makes its own networks on private subnets with its own
bridges; the `nets` fixture removes containers, networks and bridges, also when the test fails.
"""
import ipaddress
import json
import os
import subprocess

import pytest

from conftest import Isula
from test_network import DOCKER, Nets, bridge_ports, lease_files, nets, wait_until  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/usr/lib/cni/bridge"),
                                reason="needs root and Debian's containernetworking-plugins")


def ifaces(isula, c):
    """{ifname: ipv4} of a running container."""
    out = isula.ok("exec", c, "ip", "-4", "-o", "addr", "show")
    res = {}
    for line in out.splitlines():
        f = line.split()
        res[f[1]] = f[3].split("/")[0]
    return res


def test_connect_disconnect_running_and_stopped(isula, daemon, nets):
    net1, br1, sub1 = nets.network()
    net2, br2, sub2 = nets.network()
    c = nets.name()
    isula.ok("run", "-d", "--name", c, "--net", net1, "busybox", "sh", "-c",
             "while true; do echo hello-from-c | nc -l -p 8080; done")
    fixed = str(sub2.network_address + 77)
    isula.ok("network", "connect", "--alias", "second-name", "--ip", fixed, net2, c)
    got = ifaces(isula, c)
    assert ipaddress.ip_address(got["eth0"]) in sub1 and got["eth1"] == fixed, got
    nws = isula.inspect(c)["NetworkSettings"]["Networks"]
    assert set(nws) == {net1, net2}
    assert nws[net2]["IPAddress"] == fixed and nws[net2]["Aliases"] == ["second-name"]
    assert nws[net2]["IPAMConfig"] == {"IPv4Address": fixed}
    assert lease_files(daemon, net2) == [fixed] and len(bridge_ports(br2)) == 1
    # a container of net2 only reaches c by its alias there
    out = isula.ok("run", "--rm", "--net", net2, "busybox", "sh", "-c",
                   "for i in 1 2 3 4 5 6 7 8 9 10; do nc second-name 8080 </dev/null && exit 0; sleep 0.2; done; "
                   "exit 1")
    assert "hello-from-c" in out
    net2_info = json.loads(isula.ok("network", "inspect", net2))[0]
    assert list(net2_info["Containers"].values())[0]["Name"] == c
    # errors a user meets
    r = isula("network", "connect", net2, c)
    assert r.returncode != 0 and "already exists in network" in r.stderr
    r = isula("network", "disconnect", net1, c)
    assert r.returncode != 0 and "primary network" in r.stderr
    r = isula("network", "connect", "no-such-net", c)
    assert r.returncode != 0 and "not found" in r.stderr
    # a taken address on a third network: refused, nothing left of the attempt
    net3, br3, sub3 = nets.network()
    holder = nets.name()
    taken = str(sub3.network_address + 9)
    isula.ok("run", "-d", "--name", holder, "--net", net3, "--ip", taken, "busybox", "sleep", "1000")
    r = isula("network", "connect", "--ip", taken, net3, c)
    assert r.returncode != 0 and taken in r.stderr
    assert "eth2" not in ifaces(isula, c) and set(isula.inspect(c)["NetworkSettings"]["Networks"]) == {net1, net2}
    assert lease_files(daemon, net3) == [taken] and len(bridge_ports(br3)) == 1
    r = isula("network", "connect", "--ip", "10.1.2.3", net3, c)
    assert r.returncode != 0 and "not in network" in r.stderr

    isula.ok("network", "disconnect", net2, c)
    assert "eth1" not in ifaces(isula, c)
    assert lease_files(daemon, net2) == [] and bridge_ports(br2) == []
    assert set(isula.inspect(c)["NetworkSettings"]["Networks"]) == {net1}
    r = isula("network", "disconnect", net2, c)
    assert r.returncode != 0 and "is not connected to network" in r.stderr

    # connected while stopped: shown without address, attached at the next start
    isula.ok("stop", "-t", "0", c)
    isula.ok("network", "connect", net2, c)
    wait_until(lambda: isula.inspect(c)["NetworkSettings"]["Networks"][net2]["IPAddress"] == "", "stopped view")
    isula.ok("start", c)
    got = ifaces(isula, c)
    assert ipaddress.ip_address(got["eth1"]) in sub2, got
    assert lease_files(daemon, net2) == [got["eth1"]]
    isula.ok("rm", "-f", c)
    assert lease_files(daemon, net1) == [] and lease_files(daemon, net2) == []
    assert bridge_ports(br1) == [] and bridge_ports(br2) == []


def test_connections_survive_a_restart_of_isulad(new_daemon):
    d = new_daemon()
    d.start()
    isula = Isula(d)
    n = Nets(isula)
    try:
        net1, _, _ = n.network()
        net2, br2, sub2 = n.network()
        c = n.name()
        isula.ok("run", "-d", "--name", c, "--net", net1, "busybox", "sleep", "1000")
        isula.ok("network", "connect", net2, c)
        d.stop()
        d.start()
        isula.ok("restart", "-t", "0", c)
        got = ifaces(isula, c)
        assert ipaddress.ip_address(got["eth1"]) in sub2, got
        assert set(isula.inspect(c)["NetworkSettings"]["Networks"]) == {net1, net2}
        isula.ok("rm", "-f", c)
        assert lease_files(d, net2) == [] and bridge_ports(br2) == []
    finally:
        n.cleanup()


def test_network_rules_reconciled_at_start(new_daemon):
    """At its start isulad makes the rules of a network with attached containers again (what a reboot flushed) and
    removes those of a network nothing is attached to; they come back with its next container."""
    from test_network import drop_rules, network_rules
    d = new_daemon()
    d.start()
    isula = Isula(d)
    n = Nets(isula)
    try:
        used, _, _ = n.network()
        idle, _, _ = n.network()
        c = n.name()
        isula.ok("run", "-d", "--name", c, "--net", used, "busybox", "sleep", "1000")
        isula.ok("run", "--rm", "--net", idle, "busybox", "true")
        assert network_rules(used) and network_rules(idle)
        d.stop()
        drop_rules(used)  # what a reboot flushes
        d.start()
        assert network_rules(used)
        assert network_rules(idle) == []
        isula.ok("run", "--rm", "--net", idle, "busybox", "true")
        assert network_rules(idle)
    finally:
        n.cleanup()


def test_fixed_ip_and_mac_from_isula(isula, daemon, nets):
    net, bridge, sub = nets.network()
    ip = str(sub.network_address + 10)
    mac = "92:d0:c6:0a:29:33"
    c = nets.name()
    isula.ok("run", "-d", "--name", c, "--net", net, "--ip", ip, "--mac-address", mac, "busybox", "sleep", "1000")
    out = isula.ok("exec", c, "ip", "addr", "show", "eth0")
    assert ip + "/" in out and mac in out
    ep = isula.inspect(c)["NetworkSettings"]["Networks"][net]
    assert ep["IPAddress"] == ip and ep["MacAddress"] == mac
    assert lease_files(daemon, net) == [ip]
    # taken, outside the subnet
    r = isula("run", "--name", nets.name(), "--net", net, "--ip", ip, "busybox", "true")
    assert r.returncode != 0 and ip in r.stderr
    r = isula("run", "--name", nets.name(), "--net", net, "--ip", "10.1.2.3", "busybox", "true")
    assert r.returncode != 0 and "not in network" in r.stderr
    assert lease_files(daemon, net) == [ip] and len(bridge_ports(bridge)) == 1


def test_connect_and_fixed_ip_from_docker_cli_and_sdk(daemon, nets):
    import docker as docker_sdk
    env = dict(os.environ, DOCKER_CONFIG=os.path.join(daemon.base, "docker-config"))
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(k, None)

    def docker(*args):
        return subprocess.run([DOCKER, "-H", daemon.host] + list(args), capture_output=True, text=True, env=env,
                              timeout=60)

    net1, _, sub1 = nets.network()
    net2, br2, sub2 = nets.network()
    c = nets.name()
    ip = str(sub1.network_address + 20)
    # (this docker CLI sends --mac-address per network only to API 1.44 and later: the SDK below sends it)
    r = docker("run", "-d", "--name", c, "--network", net1, "--ip", ip, "busybox", "sleep", "1000")
    assert r.returncode == 0, r.stderr
    r = docker("exec", c, "ip", "addr", "show", "eth0")
    assert ip + "/" in r.stdout, (r.stdout, r.stderr)
    ip2 = str(sub2.network_address + 21)
    r = docker("network", "connect", "--ip", ip2, "--alias", "dk2", net2, c)
    assert r.returncode == 0, r.stderr
    r = docker("exec", c, "ip", "-4", "-o", "addr", "show", "eth1")
    assert ip2 + "/" in r.stdout, (r.stdout, r.stderr)
    r = docker("inspect", "-f", "{{(index .NetworkSettings.Networks \"%s\").IPAddress}}" % net2, c)
    assert r.stdout.strip() == ip2, r.stderr
    r = docker("network", "disconnect", net2, c)
    assert r.returncode == 0, r.stderr
    assert bridge_ports(br2) == []

    client = docker_sdk.DockerClient(base_url="unix://" + daemon.sock, version="1.41", timeout=60)
    try:
        client.networks.get(net2).connect(c, aliases=["sdk2"])
        nws = client.containers.get(c).attrs["NetworkSettings"]["Networks"]
        assert ipaddress.ip_address(nws[net2]["IPAddress"]) in sub2 and nws[net2]["Aliases"] == ["sdk2"]
        client.networks.get(net2).disconnect(c)
        assert set(client.containers.get(c).attrs["NetworkSettings"]["Networks"]) == {net1}
        # Config.MacAddress (API 1.41) on the container's network
        c2 = nets.name()
        ctr = client.containers.run("busybox", ["sleep", "1000"], name=c2, network=net1, detach=True,
                                    mac_address="02:42:ac:11:00:99")
        out = ctr.exec_run(["ip", "addr", "show", "eth0"]).output.decode()
        assert "02:42:ac:11:00:99" in out, out
        assert client.containers.get(c2).attrs["NetworkSettings"]["Networks"][net1]["MacAddress"] == \
            "02:42:ac:11:00:99"
    finally:
        client.close()


def test_ports_in_ps(isula, daemon, nets):
    from test_network import free_port
    net, _, _ = nets.network()
    port = free_port()
    c = nets.name()
    isula.ok("run", "-d", "--name", c, "--net", net, "-p", "127.0.0.1:%d:80" % port, "--expose", "8081", "busybox",
             "sleep", "1000")
    want = "127.0.0.1:%d->80/tcp, 8081/tcp" % port
    out = isula.ok("ps", "--format", "{{.Names}}|{{.Ports}}", "-f", "name=" + c)
    assert out.strip() == "%s|%s" % (c, want)
    out = isula.ok("ps", "--format", "table {{.Names}}\t{{.Ports}}", "-f", "name=" + c)
    assert out.splitlines()[0].split() == ["NAMES", "PORTS"]
    env = dict(os.environ, DOCKER_CONFIG=os.path.join(daemon.base, "docker-config"))
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(k, None)
    r = subprocess.run([DOCKER, "-H", daemon.host, "ps", "--filter", "name=" + c, "--format", "{{.Ports}}"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "127.0.0.1:%d->80/tcp" % port in r.stdout and "8081/tcp" in r.stdout, r.stdout
    r = subprocess.run([DOCKER, "-H", daemon.host, "ps", "--filter", "name=" + c], capture_output=True, text=True,
                       env=env, timeout=60)
    assert "PORTS" in r.stdout.splitlines()[0] and "127.0.0.1:%d->80/tcp" % port in r.stdout
    isula.ok("stop", "-t", "0", c)
    wait_until(lambda: isula.ok("ps", "-a", "--format", "{{.Ports}}", "-f", "name=" + c).strip() == "", "no ports")


def test_network_plugin_other_than_cni_refuses_to_start(tmp_path):
    from conftest import BUILD
    cfg = tmp_path / "daemon.json"
    for args in (["--network-plugin", "flannel"], ["--config-file", str(cfg)]):
        cfg.write_text(json.dumps({"network-plugin": "calico"}))
        r = subprocess.run([os.path.join(BUILD, "isulad"), "--graph", str(tmp_path / "g"), "--state",
                            str(tmp_path / "s"), "-H", "unix://%s/s.sock" % tmp_path, "--bridge", "isdbnoplugin",
                            "--ip-masq=false"] + args,
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0
        assert "network-plugin: invalid value" in r.stderr, r.stderr
        assert not os.path.exists(tmp_path / "s.sock")


def test_default_bridge_network_for_the_docker_api(daemon, isula, container):
    """docker run without --network joins the default bridge network (as Docker's docker0); isula run without --net
    keeps loopback only. The tests' daemons get their subnet and bridge from --bip/--bridge (conftest)."""
    import docker as docker_sdk
    from test_network import free_port, http_get, HTTPD
    subnet = ipaddress.ip_network(daemon.bip, strict=False)
    env = dict(os.environ, DOCKER_CONFIG=os.path.join(daemon.base, "docker-config"))
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(k, None)

    def docker(*args):
        return subprocess.run([DOCKER, "-H", daemon.host] + list(args), capture_output=True, text=True, env=env,
                              timeout=60)

    r = docker("network", "ls", "--format", "{{.Name}} {{.Driver}}")
    assert "bridge bridge" in r.stdout.splitlines(), r.stdout
    info = json.loads(docker("network", "inspect", "bridge").stdout)[0]
    assert info["IPAM"]["Config"][0]["Subnet"] == str(subnet)
    assert info["IPAM"]["Config"][0]["Gateway"] == daemon.bip.split("/")[0]
    r = docker("network", "rm", "bridge")
    assert r.returncode != 0 and "pre-defined" in r.stderr
    name = "it-db-" + os.urandom(4).hex()
    port = free_port()
    try:
        r = docker("run", "-d", "--name", name, "-p", "127.0.0.1:%d:80" % port, "busybox", "sh", "-c",
                   HTTPD.replace("hello-$HOSTNAME", "hello-default"))
        assert r.returncode == 0, r.stderr
        ins = json.loads(docker("inspect", name).stdout)[0]
        assert ins["HostConfig"]["NetworkMode"] == "default"
        ep = ins["NetworkSettings"]["Networks"]["bridge"]
        assert ipaddress.ip_address(ep["IPAddress"]) in subnet and ep["Gateway"] == daemon.bip.split("/")[0]
        assert http_get(port) == "hello-default\n"
        assert "127.0.0.1:%d->80/tcp" % port in docker("ps", "--filter", "name=" + name).stdout
        assert os.path.exists("/sys/class/net/" + daemon.bridge)
        client = docker_sdk.DockerClient(base_url="unix://" + daemon.sock, version="1.41", timeout=60)
        try:
            out = client.containers.run("busybox", ["ip", "-4", "-o", "addr", "show", "eth0"], remove=True)
            assert str(subnet.network_address)[:-1] in out.decode()
        finally:
            client.close()
    finally:
        docker("rm", "-f", name)
    assert bridge_ports(daemon.bridge) == []
    # isula's default: no network, loopback only
    out = isula.ok("run", "--rm", "busybox", "ip", "-o", "link")
    assert "eth0" not in out and "lo" in out


def _docker_env(d):
    env = dict(os.environ, DOCKER_CONFIG=os.path.join(d.base, "docker-config"))
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(k, None)
    return env


def test_default_bridge_rules_are_made_at_the_first_default_container(new_daemon):
    """The default network's iptables rules and bridge appear when the first Docker-API default-mode container
    starts, not when the daemon starts; the next start of the daemon removes them when nothing is attached."""
    import conftest
    d = new_daemon()
    d.start()
    assert conftest.default_bridge_rules(d.bridge) == []
    assert json.loads(Isula(d).ok("network", "inspect", "bridge"))[0]["Name"] == "bridge"
    assert conftest.default_bridge_rules(d.bridge) == []
    assert not os.path.exists("/sys/class/net/" + d.bridge)
    r = subprocess.run([DOCKER, "-H", d.host, "run", "--rm", "busybox", "ip", "-4", "-o", "addr", "show", "eth0"],
                       capture_output=True, text=True, env=_docker_env(d), timeout=60)
    assert r.returncode == 0 and str(ipaddress.ip_network(d.bip, strict=False).network_address)[:-1] in r.stdout, r
    rules = conftest.default_bridge_rules(d.bridge)
    assert any(a[:3] == ["FORWARD", "-i", d.bridge] and "ACCEPT" in a for _, a in rules), rules
    assert not any("MASQUERADE" in a for _, a in rules), rules  # --ip-masq=false
    assert d.stop() == 0
    d.start()
    assert conftest.default_bridge_rules(d.bridge) == []


def test_daemon_with_default_bridge_settings_leaves_iptables_alone(new_daemon):
    """A daemon started without --bridge/--bip (the default network on isula0, 172.17.0.0/16 or the next free
    /16) that runs no bridge container makes no iptables rule and no bridge, and leaves none after its stop.
    --ip-masq=false keeps any rule it might make from masquerading."""
    import conftest
    d = new_daemon()
    args = d.args()
    for flag in ("--bip", "--bridge"):
        i = args.index(flag)
        del args[i:i + 2]
    d.args = lambda: args
    before = conftest.iptables_rules()
    had_link = os.path.exists("/sys/class/net/isula0")
    try:
        d.start()
        isula = Isula(d)
        assert json.loads(isula.ok("network", "inspect", "bridge"))[0]["Options"][
            "com.docker.network.bridge.name"] == "isula0"
        out = isula.ok("run", "--rm", "busybox", "ip", "-o", "link")  # isula's default: loopback only
        assert "eth0" not in out
        assert d.stop() == 0
        made = [r for r in conftest.iptables_rules() if r not in before and "isula0" in r[1]]
        assert made == []
        assert os.path.exists("/sys/class/net/isula0") == had_link
    finally:
        d.stop()
        conftest.drop_rules(lambda t, a: (t, a) not in before and "isula0" in a)
        if not had_link and os.path.exists("/sys/class/net/isula0"):
            subprocess.run(["ip", "link", "delete", "isula0"])


def test_published_ports_are_isulads_own_chains(isula, nets):
    """A published port on a network of isulad's own is one chain pair of isulad's (no portmap chains): the host
    reaches it over 127.0.0.1, another container of the network and the container itself over the gateway (the
    host's address on the test's bridge); stop and rm take the chains away."""
    import conftest
    from test_network import HTTPD, free_port, http_get
    net, bridge, subnet = nets.network()
    gw = str(subnet.network_address + 1)
    port = free_port()
    c = nets.name()
    cid = isula.ok("run", "-d", "--name", c, "--hostname", "web-own", "--net", net, "-p", "%d:80" % port, "busybox",
                   "sh", "-c", HTTPD)
    ip = isula.inspect(c)["NetworkSettings"]["Networks"][net]["IPAddress"]
    dn, mq = "ISD-DN-%s-0" % cid[:16], "ISD-MQ-%s-0" % cid[:16]
    rules = conftest.iptables_rules()
    assert ("nat", ["ISULAD-HOSTPORTS", "-j", dn]) in rules and ("nat", ["ISULAD-HOSTPORTS-MASQ", "-j", mq]) in rules
    dnat = [a for t, a in rules if t == "nat" and a[0] == dn]
    assert len(dnat) == 1 and dnat[0][-2:] == ["--to-destination", "%s:80" % ip], dnat
    assert not any(ip in " ".join(a) for t, a in rules if t == "nat" and a[0].startswith("CNI-"))
    assert http_get(port) == "hello-web-own\n"
    get = "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://%s:%d/index.html && exit 0; sleep 0.2; done; exit 1"
    out = isula.ok("run", "--rm", "--net", net, "busybox", "sh", "-c", get % (gw, port))
    assert out == "hello-web-own"
    assert isula.ok("exec", c, "sh", "-c", get % (gw, port)) == "hello-web-own"
    isula.ok("stop", "-t", "0", c)
    wait_until(lambda: not any(dn in a or mq in a for _, a in conftest.iptables_rules()), "the chains to go")
    isula.ok("start", c)
    assert http_get(port) == "hello-web-own\n"
    isula.ok("rm", "-f", c)
    assert not any(dn in a or mq in a or ip in " ".join(a) for _, a in conftest.iptables_rules())
