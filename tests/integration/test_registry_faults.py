"""Registry failures seen through a fault-injecting proxy in front of a local docker-registry: wrong digests,
truncated and interrupted blobs, a hanging registry bounded by image-opt-timeout, 5xx answers; each gives a
clear error and leaves no image or layer behind, and a retry succeeds. Also concurrent pulls sharing layers."""
import json
import os
import subprocess
import threading
import time

import pytest

from conftest import Isula, bin_path
from registry import (HOST_PLATFORM, Layer, Proxy, Registry, busybox_layer, push_image, start_daemon,  # noqa: F401
                      stop_daemon, store_files)


@pytest.fixture(scope="module")
def reg():
    r = Registry("http")
    yield r
    r.stop()


@pytest.fixture(scope="module")
def proxy(reg):
    p = Proxy(reg.url)
    yield p
    p.stop()


@pytest.fixture(scope="module")
def d(proxy):
    dm = start_daemon(insecure=[proxy.host], conf={"image-opt-timeout": "4s"})
    yield dm
    stop_daemon(dm)


@pytest.fixture
def isula(d, proxy):
    proxy.fault, proxy.delay = None, {}
    yield Isula(d)
    proxy.fault, proxy.delay = None, {}


@pytest.fixture(scope="module")
def base_layer():
    return busybox_layer()


def name_of(proxy, repo, tag="latest"):
    return "%s/%s:%s" % (proxy.host, repo, tag)


def failed_cleanly(isula, d, name, before, r):
    assert r.returncode == 1, r.stdout
    assert r.stderr.startswith("Error response from daemon:") and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert isula("inspect", name).returncode != 0
    assert store_files(d) == before, "a failed pull left files: %s" % (store_files(d) ^ before)


@pytest.mark.parametrize("fault", ["corrupt", "truncate"])
def test_bad_blob_is_refused(reg, proxy, d, isula, base_layer, fault):
    repo = "bad/" + fault
    res = push_image(reg.url, repo, layers=[base_layer, Layer({"f": os.urandom(100000)}, compression="none")])
    blob = res.layers[HOST_PLATFORM][1][0]
    name = name_of(proxy, repo)
    before = store_files(d)
    proxy.fault = (fault, blob)
    r = isula("pull", name, timeout=120)
    failed_cleanly(isula, d, name, before, r)
    if fault == "corrupt":
        assert "digest" in r.stderr.lower() or "sha256" in r.stderr.lower(), r.stderr
    proxy.fault = None
    isula.ok("pull", name, timeout=120)
    assert isula.inspect(name)["Id"] == res.image_id


def test_corrupt_config_is_refused(reg, proxy, d, isula, base_layer):
    res = push_image(reg.url, "bad/config", layers=[base_layer])
    name = name_of(proxy, "bad/config")
    before = store_files(d)
    proxy.fault = ("corrupt", res.image_id)
    failed_cleanly(isula, d, name, before, isula("pull", name, timeout=120))


def test_interrupted_pull_then_retry(reg, proxy, d, isula, base_layer):
    big = Layer({"big.bin": os.urandom(3 << 20)}, compression="none")
    res = push_image(reg.url, "bad/interrupted", layers=[base_layer, big])
    name = name_of(proxy, "bad/interrupted")
    before = store_files(d)
    proxy.fault = ("cut", big.built[1])
    failed_cleanly(isula, d, name, before, isula("pull", name, timeout=120))
    proxy.fault = None
    r = isula("pull", name, timeout=120)
    assert r.returncode == 0, r.stderr
    assert isula.inspect(name)["Id"] == res.image_id
    assert isula.ok("run", "--rm", name, "ls", "-l", "/big.bin").split()[4] == str(3 << 20)


@pytest.mark.parametrize("server", ["ranges", "no-ranges"])
def test_broken_download_resumes(reg, proxy, d, isula, base_layer, server):
    """A transfer cut in the middle is resumed where it stopped (Range), not downloaded again; a server that
    ignores the Range (200, whole blob) makes it start over, and the result is the same."""
    big = Layer({"big.bin": os.urandom(3 << 20)}, compression="none")
    res = push_image(reg.url, "bad/resume-" + server, layers=[base_layer, big])
    name = name_of(proxy, "bad/resume-" + server)
    proxy.ranges.clear()
    proxy.fault = ("cut_once" if server == "ranges" else "cut_once_norange", big.built[1])
    r = isula("pull", name, timeout=120)
    assert r.returncode == 0, r.stderr
    assert isula.inspect(name)["Id"] == res.image_id
    ranges = [rg for path, rg in proxy.ranges if path.endswith(big.built[1])]
    assert ranges == ["bytes=%d-" % (big.built[2] // 2)], proxy.ranges
    assert len(proxy.blob_gets(big.built[1])) == 2
    assert isula.ok("run", "--rm", name, "ls", "-l", "/big.bin").split()[4] == str(3 << 20)
    isula.ok("rmi", name)


def test_blob_redirected_to_other_storage(reg, proxy, d, isula, base_layer):
    """Registries send blob GETs elsewhere (object storage) with a redirect: it is followed."""
    moved = Layer({"moved.bin": os.urandom(100000)}, compression="none")
    res = push_image(reg.url, "bad/redirected", layers=[base_layer, moved])
    name = name_of(proxy, "bad/redirected")
    before = len(reg.blob_gets("bad/redirected"))
    proxy.fault = ("redirect", moved.built[1])
    r = isula("pull", name, timeout=120)
    assert r.returncode == 0, r.stderr
    assert isula.inspect(name)["Id"] == res.image_id
    assert proxy.blob_gets(moved.built[1]), "the pull did not ask the proxy for the blob"
    assert moved.built[1] in reg.blob_gets("bad/redirected")[before:], "the redirect was not followed"
    isula.ok("rmi", name)


def test_server_errors(reg, proxy, d, isula, base_layer):
    push_image(reg.url, "bad/5xx", layers=[base_layer])
    name = name_of(proxy, "bad/5xx")
    before = store_files(d)
    proxy.fault = ("status", 500)
    failed_cleanly(isula, d, name, before, isula("pull", name, timeout=120))


@pytest.mark.parametrize("where", ["hang", "hang_blob"])
def test_hanging_registry_times_out(reg, proxy, d, isula, base_layer, where):
    fresh = Layer({"fresh.bin": os.urandom(200000)}, compression="none")
    res = push_image(reg.url, "bad/" + where, layers=[base_layer, fresh])
    name = name_of(proxy, "bad/" + where)
    before = store_files(d)
    proxy.fault = "hang" if where == "hang" else ("hang_blob", fresh.built[1])
    t0 = time.time()
    r = isula("pull", name, timeout=120)
    elapsed = time.time() - t0
    failed_cleanly(isula, d, name, before, r)
    assert elapsed < 15, "image-opt-timeout 4s, the pull took %.1fs" % elapsed
    proxy.fault = None
    isula.ok("pull", name, timeout=120)
    assert isula.inspect(name)["Id"] == res.image_id


def test_pull_stops_when_its_client_goes_away(reg, proxy, d, isula, base_layer):
    """As docker does: a pull whose client disconnects is cancelled (here while a blob download stalls: the
    daemon notices through the progress lines it keeps sending), leaves nothing, and a new pull works."""
    stall = Layer({"stall.bin": os.urandom(300000)}, compression="none")
    res = push_image(reg.url, "bad/gone", layers=[base_layer, stall])
    name = name_of(proxy, "bad/gone")
    before = store_files(d)
    proxy.fault = ("hang_blob", stall.built[1])
    cmd = [bin_path("isula"), "pull", name]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env=dict(os.environ, ISULAD_HOST=d.host))
    deadline = time.time() + 20
    while not proxy.blob_gets(stall.built[1]) and time.time() < deadline:
        time.sleep(0.05)
    assert proxy.blob_gets(stall.built[1]), "the pull never asked for the blob"
    time.sleep(0.3)
    p.kill()
    p.wait()
    t0 = time.time()
    while "client went away, cancelling" not in d.read_log() and time.time() - t0 < 10:
        time.sleep(0.1)
    assert "pull of `%s`: the client went away, cancelling" % name in d.read_log()
    while "pull of `%s` failed" % name not in d.read_log() and time.time() - t0 < 10:
        time.sleep(0.1)
    failed = [line for line in d.read_log().splitlines() if "pull of `%s` failed" % name in line]
    assert failed and "cancelled: the client went away" in failed[-1], failed  # not ended by the timeout
    while store_files(d) != before and time.time() - t0 < 10:
        time.sleep(0.1)
    assert store_files(d) == before, "a cancelled pull left files: %s" % (store_files(d) ^ before)
    assert isula("inspect", name).returncode != 0
    proxy.fault = None
    isula.ok("pull", name, timeout=120)
    assert isula.inspect(name)["Id"] == res.image_id


def test_concurrent_pulls_share_layers(reg, proxy, d, isula, base_layer):
    shared = Layer({"shared.bin": os.urandom(1 << 20)}, compression="none")
    a = push_image(reg.url, "conc/a", layers=[base_layer, shared, Layer({"who": "a\n"})])
    b = push_image(reg.url, "conc/b", layers=[base_layer, shared, Layer({"who": "b\n"})])
    proxy.delay = {shared.built[1]: 1.5, base_layer.built[1]: 1.5}  # both pulls need them at the same time
    results = {}

    def pull(n):
        results[n] = isula("pull", name_of(proxy, "conc/" + n), timeout=120)

    threads = [threading.Thread(target=pull, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in ("a", "b"):
        assert results[n].returncode == 0, results[n].stderr
    assert isula.inspect(name_of(proxy, "conc/a"))["Id"] == a.image_id
    assert isula.inspect(name_of(proxy, "conc/b"))["Id"] == b.image_id
    assert isula.ok("run", "--rm", name_of(proxy, "conc/b"), "cat", "/who") == "b"
    assert len(proxy.blob_gets(shared.built[1])) == 1, "the shared layer was downloaded more than once"


def hostile_manifests(res):
    good = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 10,
                       "digest": res.image_id},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 10,
                        "digest": res.layers[HOST_PLATFORM][0][0]}]}
    out = {"not-json": b"{this is not json", "schema1": json.dumps({"schemaVersion": 1, "fsLayers": []}).encode()}
    bad_digest = json.loads(json.dumps(good))
    bad_digest["layers"][0]["digest"] = "sha256:../../../../etc/passwd"
    out["path-digest"] = json.dumps(bad_digest).encode()
    neg = json.loads(json.dumps(good))
    neg["layers"][0]["size"] = -5
    out["negative-size"] = json.dumps(neg).encode()
    md5 = json.loads(json.dumps(good))
    md5["config"]["digest"] = "md5:" + "0" * 32
    out["other-algorithm"] = json.dumps(md5).encode()
    out["huge"] = b" " * (8 << 20) + json.dumps(good).encode()
    return out


def test_hostile_manifests_refused(reg, proxy, d, isula, base_layer):
    res = push_image(reg.url, "bad/manifest", layers=[base_layer])
    name = name_of(proxy, "bad/manifest")
    for kind, body in hostile_manifests(res).items():
        before = store_files(d)
        proxy.fault = ("body", "/manifests/latest", body, "application/vnd.docker.distribution.manifest.v2+json")
        r = isula("pull", name, timeout=120)
        failed_cleanly(isula, d, name, before, r)
    assert not os.path.exists("/etc/passwd.isulad-partial")


def test_invalid_reference(isula):
    for bad in ("UPPER/case", "a b", "x/y:tag:too", "x/y@sha256:short", "x/-lead"):
        r = isula("pull", bad, timeout=60)
        assert r.returncode == 1 and r.stderr.startswith("Error response from daemon:"), (bad, r.stdout, r.stderr)
