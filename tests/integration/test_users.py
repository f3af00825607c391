"""Users, groups and umask (guide SEC-*, C-run -u/--group-add, native.umask): -u and --group-add resolved
against the image's /etc/passwd and /etc/group (the host's for an external rootfs), in run and in exec, from
isula, the docker CLI and the Docker SDK; the umask of the container's init and of every exec.

The test image is busybox plus users alice (1001) and bob (1002), groups staff (50: alice,bob) and devs
(60: alice), made by export and import of a container.
"""
import io
import os
import shutil
import signal
import stat
import subprocess
import tarfile
import tempfile
import uuid

import pytest

DOCKER = "/usr/local/bin/docker"
PASSWD = ("root:x:0:0:root:/root:/bin/sh\\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\\n"
          "alice:x:1001:1001::/home/alice:/bin/sh\\nbob:x:1002:1002::/home/bob:/bin/sh\\n")
GROUP = ("root:x:0:\\nnobody:x:65534:\\nalice:x:1001:\\nbob:x:1002:\\nstaff:x:50:alice,bob\\n"
         "devs:x:60:alice\\n")


@pytest.fixture(scope="module")
def users_image(daemon, tmp_path_factory):
    from conftest import Isula
    isula = Isula(daemon)
    name = "it-users-" + uuid.uuid4().hex[:8]
    tag = name + ":latest"
    tar = str(tmp_path_factory.mktemp("users") / "rootfs.tar")
    isula.ok("run", "--name", name, "busybox", "sh", "-c",
             "printf '%s' >/etc/passwd && printf '%s' >/etc/group" % (PASSWD, GROUP))
    try:
        isula.ok("export", "-o", tar, name)
    finally:
        isula("rm", "-f", name)
    isula.ok("import", tar, tag)
    yield tag, tar
    isula("rmi", "-f", tag)


def ids(isula, *args):
    out = isula.ok(*args).split()
    return out[0], out[1], sorted(out[2:], key=int)


def run_ids(isula, image, *opts):
    return ids(isula, "run", "--rm", *opts, image, "sh", "-c", "id -u; id -g; id -G")


def test_user_by_name_gets_its_primary_and_supplementary_groups(isula, users_image):
    assert run_ids(isula, users_image[0], "-u", "alice") == ("1001", "1001", ["50", "60", "1001"])
    assert run_ids(isula, users_image[0], "-u", "bob") == ("1002", "1002", ["50", "1002"])


def test_user_with_group_and_numeric_ids(isula, users_image):
    img = users_image[0]
    assert run_ids(isula, img, "-u", "alice:devs") == ("1001", "60", ["60"])
    assert run_ids(isula, img, "-u", "1002:staff") == ("1002", "50", ["50"])
    assert run_ids(isula, img, "-u", "4321:8765") == ("4321", "8765", ["8765"])
    assert run_ids(isula, img, "-u", "4321") == ("4321", "0", ["0"])


def test_group_add_by_name_and_number(isula, users_image):
    img = users_image[0]
    assert run_ids(isula, img, "-u", "bob", "--group-add", "devs", "--group-add", "777") == \
        ("1002", "1002", ["50", "60", "777", "1002"])


def test_unknown_user_or_group_is_refused(isula, users_image):
    img = users_image[0]
    r = isula("run", "--rm", "-u", "ghost", img, "true")
    assert r.returncode == 125
    assert "unable to find user ghost: no matching entries in passwd file" in r.stderr
    r = isula("run", "--rm", "-u", "alice:ghosts", img, "true")
    assert r.returncode == 125
    assert "unable to find group ghosts: no matching entries in group file" in r.stderr
    r = isula("run", "--rm", "--group-add", "ghosts", img, "true")
    assert r.returncode == 125
    assert "unable to find group ghosts" in r.stderr


def test_exec_keeps_groups_and_resolves_its_own_user(isula, container, users_image):
    img = users_image[0]
    c = container("run", "-d", "-u", "bob", "--group-add", "devs", img, "sleep", "300")
    assert ids(isula, "exec", c, "sh", "-c", "id -u; id -g; id -G") == ("1002", "1002", ["50", "60", "1002"])
    # bob by uid: his own groups (staff), plus the container's --group-add devs
    assert ids(isula, "exec", "-u", "1002", c, "sh", "-c", "id -u; id -g; id -G") == \
        ("1002", "1002", ["50", "60", "1002"])
    assert ids(isula, "exec", "-u", "alice:staff", c, "sh", "-c", "id -u; id -g; id -G") == \
        ("1001", "50", ["50", "60"])
    assert ids(isula, "exec", "-u", "4000:4001", c, "sh", "-c", "id -u; id -g; id -G") == \
        ("4000", "4001", ["60", "4001"])
    r = isula("exec", "-u", "ghost", c, "true")
    assert r.returncode != 0
    assert "unable to find user ghost: no matching entries in passwd file" in r.stdout + r.stderr


def test_external_rootfs_takes_users_from_the_host(isula, container, users_image):
    root = tempfile.mkdtemp(prefix="it-users-rootfs-", dir="/tmp")
    try:
        with tarfile.open(users_image[1]) as t:
            t.extractall(root)
        host_user = next(l.split(":") for l in open("/etc/passwd") if l.split(":")[0] == "daemon")
        out = isula.ok("run", "--rm", "--external-rootfs", root, "-u", "daemon", "none", "sh", "-c", "id -u; id -g")
        assert out.split() == [host_user[2], host_user[3]]
        r = isula("run", "--rm", "--external-rootfs", root, "-u", "alice", "none", "true")
        assert r.returncode == 125 and "unable to find user alice" in r.stderr  # the image's user, not the host's
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_umask_of_init_and_exec(isula, container):
    c = container("run", "-d", "busybox", "sh", "-c", "umask >/tmp/init-umask; exec sleep 300")
    assert isula.ok("exec", c, "cat", "/tmp/init-umask") == "0027"  # the guide's default (secure)
    assert isula.ok("exec", c, "sh", "-c", "umask") == "0027"
    assert isula.ok("exec", "-t", c, "sh", "-c", "umask").strip() == "0027"
    assert isula.ok("exec", c, "sh", "-c", "touch /tmp/f && stat -c %a /tmp/f") == "640"
    n = container("run", "-d", "--annotation", "native.umask=normal", "busybox", "sh", "-c",
                  "umask >/tmp/init-umask; exec sleep 300")
    assert isula.ok("exec", n, "cat", "/tmp/init-umask") == "0022"
    assert isula.ok("exec", n, "sh", "-c", "umask") == "0022"
    r = isula("run", "--rm", "--annotation", "native.umask=bogus", "busybox", "true")
    assert r.returncode == 125 and "native.umask" in r.stderr


def test_daemon_native_umask_option(new_daemon):
    from conftest import Isula
    d = new_daemon(extra_args=("--native.umask", "normal"))
    d.start()
    isula = Isula(d)
    out = isula.ok("run", "--rm", "busybox", "sh", "-c", "umask")
    assert out == "0022"
    c = isula.ok("run", "-d", "busybox", "sleep", "300")
    assert isula.ok("exec", c, "sh", "-c", "umask") == "0022"
    isula("rm", "-f", c)


@pytest.mark.skipif(not os.path.exists(DOCKER), reason="docker CLI not installed")
def test_docker_cli_user_group_add_and_exec_umask(daemon, users_image):
    env = dict(os.environ, DOCKER_CONFIG=os.path.join(daemon.base, "docker-config"))
    for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
        env.pop(k, None)
    name = "dk-users-" + uuid.uuid4().hex[:8]

    def docker(*args):
        r = subprocess.run([DOCKER, "-H", daemon.host] + list(args), capture_output=True, text=True, timeout=60,
                           env=env)
        assert r.returncode == 0, "docker %s: %s" % (args, r.stderr)
        return r.stdout.strip()

    try:
        docker("run", "-d", "--name", name, "-u", "alice", "--group-add", "777", users_image[0], "sleep", "300")
        out = docker("exec", name, "sh", "-c", "id -u; id -g; id -G; umask").split()
        assert out[:2] == ["1001", "1001"]
        assert sorted(out[2:-1], key=int) == ["50", "60", "777", "1001"]
        assert out[-1] == "0027"
        out = docker("exec", "-u", "bob", name, "sh", "-c", "id -u; id -G").split()
        assert out[0] == "1002" and sorted(out[1:], key=int) == ["50", "777", "1002"]
    finally:
        subprocess.run([DOCKER, "-H", daemon.host, "rm", "-f", name], capture_output=True, env=env)


def test_docker_sdk_user_and_group_add(daemon, users_image):
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=daemon.host, version="1.41")
    out = client.containers.run(users_image[0], ["sh", "-c", "id -u; id -G"], user="bob", group_add=["devs"],
                                remove=True).decode().split()
    assert out[0] == "1002" and sorted(out[1:], key=int) == ["50", "60", "1002"]
    c = client.containers.run(users_image[0], ["sleep", "300"], detach=True)
    try:
        rc, out = c.exec_run(["sh", "-c", "umask; id -u"], user="alice")
        assert rc == 0 and out.decode().split() == ["0027", "1001"]
    finally:
        c.remove(force=True)


# ---- user namespaces: --user-remap <uid>:<gid>:<offset>, the daemon's userns-remap, --userns host ----

def host_ids(pid):
    with open("/proc/%d/status" % pid) as f:
        st = dict(l.split(":", 1) for l in f if ":" in l)
    return st["Uid"].split()[0], st["Gid"].split()[0]


def remap_ready(daemon):
    # the container's root is a stranger on the host: it must be able to search down to the graph, as an
    # administrator grants it for /var/lib/isulad (the daemon opens the graph itself, from there down)
    os.chmod(daemon.base, 0o711)


def check_mapped(isula, cid, uid, gid):
    ins = isula.inspect(cid)
    assert host_ids(ins["State"]["Pid"]) == (str(uid), str(gid))
    inside = isula.ok("exec", cid, "sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/gid_map; "
                      "stat -c '%u:%g' /bin/busybox /etc/passwd /").split()
    assert inside[0] == "0"
    assert inside[1:7] == ["0", str(uid), "65535", "0", str(gid), "65535"]
    assert inside[7:] == ["0:0", "0:0", "0:0"]  # the image's files belong to root inside
    isula.ok("exec", cid, "sh", "-c", "echo data >/root/by-root && mkdir /newdir")
    upper = ins["GraphDriver"]["Data"]["UpperDir"]
    for p in ("root/by-root", "newdir"):
        st = os.stat(os.path.join(upper, p))
        assert (st.st_uid, st.st_gid) == (uid, gid), p  # on disk: the mapped ids
    assert isula.ok("exec", cid, "stat", "-c", "%u:%g", "/root/by-root") == "0:0"


def test_user_remap_maps_root_and_the_image_layers(isula, daemon, container):
    remap_ready(daemon)
    c = container("run", "-d", "--user-remap", "300000:310000:65535", "busybox", "sleep", "300")
    check_mapped(isula, c, 300000, 310000)
    assert isula.inspect(c)["HostConfig"]["UserRemap"] == "300000:310000:65535"
    # the shared image layers stay as they were: a plain container still sees root-owned files written as root
    plain = container("run", "-d", "busybox", "sleep", "300")
    assert isula.ok("exec", plain, "cat", "/proc/self/uid_map").split() == ["0", "0", "4294967295"]
    assert isula.ok("exec", plain, "stat", "-c", "%u", "/bin/busybox") == "0"


def overlay_options(merged):
    with open("/proc/self/mountinfo") as f:
        for line in f:
            if line.split()[4] == merged:
                return line.split(" - ")[1].split()[2]
    return None


def test_user_remap_with_chowned_layer_copies(new_daemon):
    """The fallback of kernels without id-mapped overlay layers, forced: each image layer copied once per mapping
    with the ids shifted, shared by the containers of that mapping, removed with the layer."""
    from conftest import Isula
    d = new_daemon(extra_args=("--storage-opt", "overlay2.remap_layers=copy"))
    remap_ready(d)
    d.start()
    isula = Isula(d)
    c = isula.ok("run", "-d", "--user-remap", "300000:310000:65535", "busybox", "sleep", "300")
    check_mapped(isula, c, 300000, 310000)
    remap = os.path.join(d.graph, "storage", "remap", "300000.310000.65535")
    copies = sorted(os.listdir(remap))
    bb = [os.path.join(remap, n, "bin", "busybox") for n in copies if os.path.exists(os.path.join(remap, n, "bin"))]
    st = os.stat(bb[0])
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (300000, 310000, 0o755)
    assert overlay_options(isula.inspect(c)["GraphDriver"]["Data"]["MergedDir"]).count(remap) == len(copies)
    # the image's own layer is untouched
    overlay = os.path.join(d.graph, "storage", "overlay")
    layer = next(os.path.join(overlay, n, "diff", "bin", "busybox") for n in os.listdir(overlay)
                 if os.path.exists(os.path.join(overlay, n, "diff", "bin", "busybox")))
    assert os.stat(layer).st_uid == 0 and os.stat(layer).st_ino != st.st_ino
    # a second container of the mapping shares the copies
    c2 = isula.ok("run", "-d", "--user-remap", "300000:310000:65535", "busybox", "sleep", "300")
    assert sorted(os.listdir(remap)) == copies
    assert isula.ok("exec", c2, "stat", "-c", "%u:%g %a", "/bin/busybox") == "0:0 755"
    # an image of its own: its layer's copy goes with it
    isula.ok("exec", c, "sh", "-c", "echo x > /marker")
    img = "it-remap-copy:" + uuid.uuid4().hex[:8]
    isula.ok("commit", c, img)
    c3 = isula.ok("run", "-d", "--user-remap", "300000:310000:65535", img, "sleep", "300")
    assert isula.ok("exec", c3, "stat", "-c", "%u:%g", "/marker") == "0:0"
    assert len(os.listdir(remap)) == len(copies) + 1
    isula.ok("rm", "-f", c3)
    isula.ok("rmi", img)
    assert sorted(os.listdir(remap)) == copies
    # a copy a crash left half made is swept when the daemon starts
    os.makedirs(os.path.join(remap, "ABC.tmp-crash1", "bin"))
    isula.ok("rm", "-f", c, c2)
    d.stop()
    d.start()
    assert sorted(os.listdir(remap)) == copies
    assert Isula(d).ok("run", "--rm", "--user-remap", "300000:310000:65535", "busybox", "id", "-u") == "0"
    r = Isula(d)("run", "--rm", "busybox", "true")
    assert r.returncode == 0, r.stderr


def rootfs_tar_with_links(path):
    """busybox with a few applets, a hard-linked pair, a setuid id, a directory and a file owned by 7:8."""
    def add(t, name, kind=tarfile.REGTYPE, data=b"", link="", mode=0o644, ids=(0, 0)):
        ti = tarfile.TarInfo(name)
        ti.type, ti.linkname, ti.mode, ti.size = kind, link, mode, len(data) if kind == tarfile.REGTYPE else 0
        ti.uid, ti.gid = ids
        t.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

    with open("/bin/busybox", "rb") as f:
        bb = f.read()
    with tarfile.open(path, "w") as t:
        add(t, "bin", tarfile.DIRTYPE, mode=0o755)
        add(t, "bin/busybox", data=bb, mode=0o755)
        for applet in ("sh", "stat", "ls", "id", "rm", "mkdir"):
            add(t, "bin/" + applet, tarfile.SYMTYPE, link="busybox")
        add(t, "s", tarfile.DIRTYPE, mode=0o755)
        add(t, "s/id", data=bb, mode=0o4755)
        add(t, "f1", data=b"x\n")
        add(t, "f2", tarfile.LNKTYPE, link="f1")
        add(t, "d", tarfile.DIRTYPE, mode=0o755)
        add(t, "d/old", data=b"a\n")
        add(t, "gone", data=b"bye\n", ids=(7, 8))


def test_chowned_layer_copies_keep_whiteouts_links_and_modes(new_daemon, tmp_path):
    """What overlayfs and programs need of a layer survives the copy: hard links, setuid bits (which a chown
    clears), owners shifted, and the whiteouts and opaque directories of an upper layer."""
    from conftest import Isula
    d = new_daemon(extra_args=("--storage-opt", "overlay2.remap_layers=copy"))
    remap_ready(d)
    d.start()
    isula = Isula(d)
    tag = uuid.uuid4().hex[:8]
    rootfs_tar_with_links(str(tmp_path / "rootfs.tar"))
    isula.ok("import", str(tmp_path / "rootfs.tar"), "it-remap-l1:" + tag)
    isula.ok("run", "--name", "l2-" + tag, "it-remap-l1:" + tag, "/bin/sh", "-c",
             "rm /gone && rm -r /d && mkdir /d && echo new > /d/new")
    isula.ok("commit", "l2-" + tag, "it-remap-l2:" + tag)
    out = isula.ok("run", "--rm", "--user-remap", "300000:300000:65535", "it-remap-l2:" + tag, "/bin/sh", "-c",
                   "ls /gone 2>/dev/null || echo no-gone; ls /d; stat -c '%h %i' /f1 /f2; stat -c '%a %u:%g' /s/id;"
                   " id -u; /s/id -u")
    lines = out.splitlines()
    assert lines[0] == "no-gone" and lines[1] == "new", lines  # the whiteout and the opaque directory
    (n1, i1), (n2, i2) = lines[2].split(), lines[3].split()
    assert n1 == n2 == "2" and i1 == i2, lines  # still one inode with two names
    assert lines[4:] == ["4755 0:0", "0", "0"], lines
    # the first layer's copy holds the file the second layer deletes, with its owner shifted
    remap = os.path.join(d.graph, "storage", "remap", "300000.300000.65535")
    gone = [os.lstat(os.path.join(remap, n, "gone")) for n in os.listdir(remap)
            if os.path.lexists(os.path.join(remap, n, "gone"))]
    files = [st for st in gone if stat.S_ISREG(st.st_mode)]
    whiteouts = [st for st in gone if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0]
    assert len(files) == 1 and (files[0].st_uid, files[0].st_gid) == (300007, 300008)
    assert len(whiteouts) == 1  # the upper layer's whiteout, copied as the 0/0 device overlayfs reads


SETCAP = shutil.which("setcap") or "/usr/sbin/setcap"
CAP_NET_RAW = 1 << 13


@pytest.mark.skipif(not os.path.exists(SETCAP), reason="setcap (libcap2-bin) not installed")
def test_chowned_layer_copies_map_file_capabilities(new_daemon, tmp_path):
    """A file capability of an image layer (setcap's revision 2 value, valid for the host's root) becomes in the
    chowned copy a namespaced one (revision 3) whose root is the mapping's root, and still works in the container."""
    from conftest import Isula
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    for sub in ("c", "ns5", "far"):
        (root / sub).mkdir()
        shutil.copy("/bin/busybox", root / sub / "busybox")
    for applet in ("sh", "grep", "id"):
        os.symlink("busybox", root / "bin" / applet)
    subprocess.run([SETCAP, "cap_net_raw+ep", str(root / "c" / "busybox")], check=True)
    # namespaced values: rooted at uid 5 (inside the mapping) and at 70000 (outside it: dropped)
    subprocess.run([SETCAP, "-n", "5", "cap_net_raw+ep", str(root / "ns5" / "busybox")], check=True)
    subprocess.run([SETCAP, "-n", "70000", "cap_net_raw+ep", str(root / "far" / "busybox")], check=True)
    layer_caps = os.getxattr(root / "c" / "busybox", "security.capability")
    assert len(layer_caps) == 20 and layer_caps[3] == 2  # revision 2: what setcap writes as the host's root
    subprocess.run(["tar", "--xattrs", "--xattrs-include=security.capability", "-C", str(root), "-cf",
                    str(tmp_path / "caps.tar"), "."], check=True)
    d = new_daemon(extra_args=("--storage-opt", "overlay2.remap_layers=copy"))
    remap_ready(d)
    d.start()
    isula = Isula(d)
    img = "it-remap-caps:" + uuid.uuid4().hex[:8]
    isula.ok("import", str(tmp_path / "caps.tar"), img)
    out = isula.ok("run", "--rm", "--user-remap", "300000:300000:65535", "-u", "1000", img,
                   "/c/busybox", "grep", "^CapEff", "/proc/self/status")
    assert int(out.split()[1], 16) == CAP_NET_RAW, out  # the capability works for the container's user
    remap = os.path.join(d.graph, "storage", "remap", "300000.300000.65535")
    copies = [os.path.join(remap, n) for n in os.listdir(remap) if os.path.exists(os.path.join(remap, n, "c"))]
    assert len(copies) == 1
    caps = os.getxattr(os.path.join(copies[0], "c", "busybox"), "security.capability")
    assert len(caps) == 24 and caps[3] == 3, caps  # revision 3 ...
    assert int.from_bytes(caps[20:24], "little") == 300000  # ... rooted at the mapping's root
    assert caps[:3] == layer_caps[:3] and caps[4:20] == layer_caps[4:20]  # same effective flag and sets
    ns5 = os.getxattr(os.path.join(copies[0], "ns5", "busybox"), "security.capability")
    assert len(ns5) == 24 and int.from_bytes(ns5[20:24], "little") == 300005  # shifted like an owner
    assert "security.capability" not in os.listxattr(os.path.join(copies[0], "far", "busybox"))
    with open(d.log, errors="replace") as f:
        assert "file capabilities of `busybox` dropped" in f.read()
    # the image's own layer keeps the host's value
    overlay = os.path.join(d.graph, "storage", "overlay")
    orig = [os.path.join(overlay, n, "diff", "c", "busybox") for n in os.listdir(overlay)
            if os.path.exists(os.path.join(overlay, n, "diff", "c", "busybox"))]
    assert [os.getxattr(p, "security.capability") for p in orig] == [layer_caps]
    isula.ok("rmi", img)


def test_remap_layers_option_is_validated(new_daemon):
    d = new_daemon(extra_args=("--storage-opt", "overlay2.remap_layers=chown"))
    with pytest.raises(RuntimeError) as e:
        d.start(timeout=10)
    assert "remap_layers takes auto, idmap or copy" in str(e.value)


def test_user_remap_validation(isula):
    for bad, why in (("1:2", "want <uid>:<gid>:<offset>"), ("a:1:2", "integers >= 0"), ("-1:1:2", "integers >= 0"),
                     ("1:1:0", "offset must be greater than 0 and less than 65536"),
                     ("1:1:65536", "offset must be greater than 0 and less than 65536"),
                     ("4294967290:1:10", "must not exceed 2^32-1"), ("1:4294967290:10", "must not exceed 2^32-1")):
        r = isula("create", "--user-remap", bad, "busybox", "true")
        assert r.returncode == 125, bad
        assert "invalid user remap `%s`: " % bad in r.stderr and why in r.stderr, r.stderr
    r = isula("create", "--user-remap", "100000:100000:65535", "--privileged", "busybox", "true")
    assert r.returncode == 125 and "--user-remap and --privileged cannot be used together" in r.stderr
    r = isula("create", "--userns", "private", "busybox", "true")
    assert r.returncode == 125 and "invalid USER mode: private" in r.stderr


def test_user_remap_with_a_zero_id_maps_nothing(isula, container):
    out = isula.ok("run", "--rm", "--user-remap", "0:100000:1000", "busybox", "cat", "/proc/self/uid_map")
    assert out.split() == ["0", "0", "4294967295"]


def test_daemon_userns_remap_and_userns_host(new_daemon):
    from conftest import Isula
    d = new_daemon(config={"userns-remap": "400000:400000:65535"})
    remap_ready(d)
    d.start()
    isula = Isula(d)
    c = isula.ok("run", "-d", "busybox", "sleep", "300")
    check_mapped(isula, c, 400000, 400000)
    own = isula.ok("run", "-d", "--user-remap", "500000:500000:65535", "busybox", "sleep", "300")
    assert host_ids(isula.inspect(own)["State"]["Pid"]) == ("500000", "500000")
    out = isula.ok("run", "--rm", "--userns", "host", "busybox", "cat", "/proc/self/uid_map")
    assert out.split() == ["0", "0", "4294967295"]
    # the default bridge network too: its namespace is owned by a user namespace with the daemon's mapping
    out = isula.ok("run", "--rm", "--net", "bridge", "busybox", "sh", "-c", "cat /proc/self/uid_map; ls /sys/class/net")
    assert out.split()[:3] == ["0", "400000", "65535"] and "eth0" in out.split()[3:]
    r = isula("create", "--privileged", "busybox", "true")
    assert r.returncode == 125 and "privileged mode is incompatible with user namespaces" in r.stderr
    assert isula.ok("run", "--rm", "--privileged", "--userns", "host", "busybox", "id", "-u") == "0"
    if os.path.exists(DOCKER):
        env = dict(os.environ, DOCKER_CONFIG=os.path.join(d.base, "docker-config"))
        for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY"):
            env.pop(k, None)
        for args, want in ((("--userns", "host"), ["0", "0", "4294967295"]), ((), ["0", "400000", "65535"])):
            r = subprocess.run([DOCKER, "-H", d.host, "run", "--rm"] + list(args) + ["busybox", "cat",
                                                                                    "/proc/self/uid_map"],
                               capture_output=True, text=True, timeout=60, env=env)
            assert r.returncode == 0, r.stderr
            assert r.stdout.split() == want


def test_daemon_userns_remap_is_validated(new_daemon):
    d = new_daemon(extra_args=("--userns-remap", "1:1:70000"))
    with pytest.raises(RuntimeError) as e:
        d.start(timeout=10)
    assert "offset must be greater than 0 and less than 65536" in str(e.value)


def test_leftover_idmapped_layer_mounts_are_detached_not_deleted(new_daemon):
    """After a crash while an id-mapped rootfs was being mounted: the start-up sweep detaches the layer clones
    (same st_dev as the layers) and never removes through them."""
    from conftest import Isula
    d = new_daemon()
    d.start()
    Isula(d).ok("create", "busybox", "true")  # the image's layers are in the store
    overlay = os.path.join(d.graph, "storage", "overlay")
    layer = next(os.path.join(overlay, n, "diff") for n in os.listdir(overlay)
                 if os.path.exists(os.path.join(overlay, n, "diff", "bin", "busybox")))
    d.stop()
    clone = os.path.join(overlay, "idm-crash1", "0")
    os.makedirs(clone)
    subprocess.run(["mount", "--bind", layer, clone], check=True)
    try:
        d.start()
        assert not os.path.exists(os.path.join(overlay, "idm-crash1"))
        assert os.path.exists(os.path.join(layer, "bin", "busybox"))
        assert Isula(d).ok("run", "--rm", "busybox", "echo", "still-there") == "still-there"
    finally:
        if os.path.ismount(clone):
            subprocess.run(["umount", "-l", clone])


MAP = "300000:300000:65535"


def test_user_remap_refuses_host_namespaces(isula):
    for opts, msg in ((("--pid", "host"), "cannot share the host PID namespace when user namespaces are enabled"),
                      (("--net", "host"), "cannot share the host's network namespace when user namespaces are "
                                          "enabled")):
        r = isula("create", "--user-remap", MAP, *opts, "busybox", "true")
        assert r.returncode == 125 and msg in r.stderr, (opts, r.stderr)


def test_user_remap_on_a_user_network(isula, daemon):
    """The network's namespace is made in a user namespace with the container's mapping, which the container
    joins: its root mounts sysfs there, exec joins it, and containers reach each other by name."""
    from test_network import Nets
    remap_ready(daemon)
    nets = Nets(isula)
    try:
        net, _, _ = nets.network()
        a, b = nets.name(), nets.name()
        isula.ok("run", "-d", "--name", a, "--user-remap", MAP, "--net", net, "busybox", "sleep", "300")
        isula.ok("run", "-d", "--name", b, "--user-remap", MAP, "--net", net, "busybox", "sleep", "300")
        assert isula.ok("exec", a, "cat", "/proc/self/uid_map").split() == ["0", "300000", "65535"]
        assert host_ids(isula.inspect(a)["State"]["Pid"]) == ("300000", "300000")
        assert "eth0" in isula.ok("exec", a, "ls", "/sys/class/net").split()
        ip_a = isula.inspect(a)["NetworkSettings"]["Networks"][net]["IPAddress"]
        assert ip_a and ip_a in isula.ok("exec", a, "ip", "-4", "addr", "show", "eth0")
        assert "1 packets received" in isula.ok("exec", b, "ping", "-c", "1", "-W", "5", a)
        # a second network connected to the running container, and a restart that makes the namespaces again
        net2, _, _ = nets.network()
        isula.ok("network", "connect", net2, b)
        assert "eth1" in isula.ok("exec", b, "ls", "/sys/class/net").split()
        isula.ok("restart", "-t", "1", b)
        assert isula.ok("exec", b, "cat", "/proc/self/uid_map").split() == ["0", "300000", "65535"]
        assert {"eth0", "eth1"} <= set(isula.ok("exec", b, "ls", "/sys/class/net").split())
        assert "1 packets received" in isula.ok("exec", b, "ping", "-c", "1", "-W", "5", a)
        # a container of the same mapping sharing b's network joins the pinned user namespace that owns it
        out = isula.ok("run", "--rm", "--user-remap", MAP, "--net", "container:" + b, "busybox", "ls", "/sys/class/net")
        assert {"eth0", "eth1"} <= set(out.split())
        # the pinned user namespace goes with the container
        pinned = os.path.join(daemon.state, "netns-userns", isula.inspect(a)["Id"])
        assert os.path.exists(pinned)
        isula.ok("rm", "-f", a)
        assert not os.path.exists(pinned)
    finally:
        nets.cleanup()


def test_user_remap_network_survives_a_daemon_crash(new_daemon):
    """The pinned user and network namespaces of a running container stay through a SIGKILL of isulad; the
    restarted daemon execs into it and removes both with it."""
    from conftest import Isula
    from test_network import Nets
    d = new_daemon(config={"userns-remap": "400000:400000:65535"})
    remap_ready(d)
    d.start()
    isula = Isula(d)
    nets = Nets(isula)
    try:
        net, _, _ = nets.network()
        a = nets.name()
        isula.ok("run", "-d", "--name", a, "--net", net, "busybox", "sleep", "300")
        cid = isula.inspect(a)["Id"]
        pins = [os.path.join(d.state, "netns", cid), os.path.join(d.state, "netns-userns", cid)]
        d.stop(signal.SIGKILL)
        d.start()
        assert all(os.path.exists(p) for p in pins)
        assert "eth0" in isula.ok("exec", a, "ls", "/sys/class/net").split()
        assert isula.ok("exec", a, "cat", "/proc/self/uid_map").split() == ["0", "400000", "65535"]
        isula.ok("rm", "-f", a)
        assert not any(os.path.exists(p) for p in pins)
    finally:
        nets.cleanup()


def test_user_remap_joins_a_peer_with_the_same_mapping(isula, daemon, container):
    """container:<peer> modes: the peer's namespaces come with its user namespace, which the container joins;
    a different mapping (or none on the peer) cannot share them."""
    remap_ready(daemon)
    peer = container("run", "-d", "--user-remap", MAP, "--hostname", "peerhost", "busybox", "sleep", "300")
    c = container("run", "-d", "--user-remap", MAP, "--net", "container:" + peer, "--pid", "container:" + peer,
                  "--ipc", "container:" + peer, "busybox", "sleep", "301")
    assert isula.ok("exec", c, "hostname") == "peerhost"
    assert "sleep 300" in isula.ok("exec", c, "ps", "-o", "args")
    pid_c, pid_p = isula.inspect(c)["State"]["Pid"], isula.inspect(peer)["State"]["Pid"]
    for ns in ("user", "net", "pid", "ipc"):
        assert os.readlink("/proc/%d/ns/%s" % (pid_c, ns)) == os.readlink("/proc/%d/ns/%s" % (pid_p, ns)), ns
    assert os.readlink("/proc/%d/ns/mnt" % pid_c) != os.readlink("/proc/%d/ns/mnt" % pid_p)
    r = isula("create", "--user-remap", "400000:400000:65535", "--net", "container:" + peer, "busybox", "true")
    assert r.returncode == 125 and "its user namespace maps ids differently" in r.stderr, r.stderr
    plain = container("run", "-d", "busybox", "sleep", "300")
    r = isula("create", "--user-remap", MAP, "--ipc", "container:" + plain, "busybox", "true")
    assert r.returncode == 125 and "maps ids differently (none: the host's)" in r.stderr, r.stderr
    # host root may join a user-namespaced container's namespaces
    assert isula.ok("run", "--rm", "--net", "container:" + peer, "busybox", "hostname") == "peerhost"


def test_user_remap_network_and_peer_namespaces_conflict(isula, daemon, container):
    from test_network import Nets
    remap_ready(daemon)
    nets = Nets(isula)
    try:
        net, _, _ = nets.network()
        peer = container("run", "-d", "--user-remap", MAP, "busybox", "sleep", "300")
        r = isula("create", "--name", nets.name(), "--user-remap", MAP, "--net", net, "--pid",
                  "container:" + peer, "busybox", "true")
        assert r.returncode == 125 and "cannot be on a network and share another container's namespaces (PidMode)" \
            in r.stderr, r.stderr
        out = isula.ok("run", "--rm", "--net", net, "--userns", "host", "busybox", "cat", "/proc/self/uid_map")
        assert out.split() == ["0", "0", "4294967295"]
    finally:
        nets.cleanup()


def test_daemon_native_umask_empty_is_secure_and_bad_values_refused(new_daemon):
    from conftest import Isula
    d = new_daemon(config={"native.umask": ""})
    d.start()
    assert Isula(d).ok("run", "--rm", "busybox", "sh", "-c", "umask") == "0027"
    bad = new_daemon(config={"native.umask": "0000"})
    with pytest.raises(RuntimeError) as e:
        bad.start(timeout=10)
    assert "native.umask" in str(e.value)
