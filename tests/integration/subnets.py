"""Free private subnets for the networks the tests and benches make: none may overlap a route of the host (any
table) or a subnet handed out before in this process (a network has no route before its first container)."""
import ipaddress
import random
import subprocess

_HANDED_OUT = set()


def host_routes(family=4):
    """The destinations of every route of the host, default routes left out."""
    out = subprocess.run(["ip", "-%d" % family, "route", "show", "table", "all"], capture_output=True,
                         text=True).stdout
    nets = []
    for line in out.splitlines():
        w = line.split()
        dst = w[1] if w[0] in ("local", "unreachable", "anycast", "multicast", "broadcast") else w[0]
        try:
            n = ipaddress.ip_network(dst, strict=False)
        except ValueError:
            continue
        if n.prefixlen > 0:
            nets.append(n)
    return nets


def _free(family, candidate, what):
    taken = host_routes(family)
    for _ in range(500):
        cand = ipaddress.ip_network(candidate())
        if cand not in _HANDED_OUT and not any(cand.overlaps(t) for t in taken):
            _HANDED_OUT.add(cand)
            return cand
    raise RuntimeError("no free %s on this host" % what)


def free_subnet():
    """A 10.254.x.0/24 (x in 100..249) for a test network."""
    return _free(4, lambda: "10.254.%d.0/24" % random.randint(100, 249), "10.254.x.0/24")


def free_bip():
    """A gateway/prefix (10.253.x.1/24) for a test daemon's default bridge network."""
    net = _free(4, lambda: "10.253.%d.0/24" % random.randint(0, 255), "10.253.x.0/24")
    return "%s/24" % (net.network_address + 1)


def free_subnet6():
    """A random ULA /64."""
    return _free(6, lambda: "fd%02x:%x:%x::/64" % (random.randint(1, 255), random.randint(1, 0xffff),
                                                 random.randint(1, 0xffff)), "ULA /64")
