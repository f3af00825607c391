"""image-layer-check (D-33): a dedicated daemon with "image-layer-check": true; damaging a layer's files in its
graph makes the images using it unusable (create fails clearly) while the other images keep working."""
import json
import os
import shutil
import tempfile

import pytest

from conftest import Daemon, Isula, cleanup_all, leftover_mounts
from test_isula_images import rootfs_tar


def diff_dir(d, image_info):
    chain = image_info["RootFS"]["Layers"][0].split(":")[1]  # a base layer's chain id is its diff id
    return os.path.join(d.graph, "storage", "overlay", chain)


@pytest.fixture
def checked_daemon():
    base = tempfile.mkdtemp(prefix="isd-lc-", dir="/tmp")
    d = Daemon(base)
    with open(d.conf, "w") as f:
        json.dump({"image-layer-check": True}, f)
    d.start()
    try:
        yield d
    finally:
        if d.proc is None:
            try:
                d.start()
            except RuntimeError:
                pass
        if d.proc is not None:
            cleanup_all(Isula(d))
        d.stop()
        for m in reversed(leftover_mounts(base)):
            os.system("umount -l '%s'" % m.split()[1])
        shutil.rmtree(base, ignore_errors=True)


def import_image(isula, tmp, name, marker):
    p = os.path.join(tmp, marker + ".tar")
    with open(p, "wb") as f:
        f.write(rootfs_tar(marker))
    isula.ok("import", p, name)
    return isula.inspect(name)


@pytest.mark.parametrize("damage", ["file-content", "file-removed", "stored-tar"])
def test_damaged_layer_makes_its_image_unusable(checked_daemon, damage):
    d = checked_daemon
    isula = Isula(d)
    tmp = os.path.join(d.base, "src")
    os.makedirs(tmp, exist_ok=True)
    good = import_image(isula, tmp, "lcgood:1", "good-marker")
    bad = import_image(isula, tmp, "lcbad:1", "bad--marker")
    isula.ok("run", "--rm", "lcbad:1", "cat", "/etc/marker")
    d.stop()
    layer = diff_dir(d, bad)
    if damage == "file-content":
        with open(os.path.join(layer, "diff", "etc", "marker"), "r+b") as f:
            f.write(b"X")
    elif damage == "file-removed":
        os.unlink(os.path.join(layer, "diff", "bin", "busybox"))
    else:
        blob = os.path.join(layer, "layer.tar.zst")
        size = os.path.getsize(blob)
        with open(blob, "r+b") as f:
            f.seek(size // 2)
            f.write(b"\0" * 64)
    d.start()
    log = d.read_log()
    assert "image-layer-check" in log and bad["Id"].split(":")[1] in log
    r = isula("create", "lcbad:1", "true")
    assert r.returncode != 0 and "damaged" in r.stderr, r.stderr
    assert "lcbad:1" in isula.ok("images")  # still listed, but unusable
    assert isula.ok("run", "--rm", "lcgood:1", "cat", "/etc/marker") == "good-marker"
    assert good["Id"] != bad["Id"]


def test_sound_layers_pass_and_check_off_skips(checked_daemon):
    d = checked_daemon
    isula = Isula(d)
    tmp = os.path.join(d.base, "src")
    os.makedirs(tmp, exist_ok=True)
    bad = import_image(isula, tmp, "lcok:1", "fine")
    d.stop()
    d.start()
    assert "0 damaged" in d.read_log()
    assert isula.ok("run", "--rm", "lcok:1", "cat", "/etc/marker") == "fine"
    d.stop()
    with open(os.path.join(diff_dir(d, bad), "diff", "etc", "marker"), "r+b") as f:
        f.write(b"Z")
    with open(d.conf, "w") as f:
        json.dump({"image-layer-check": False}, f)
    open(d.log, "w").close()
    d.start()
    assert "image-layer-check" not in d.read_log()
    assert isula.ok("run", "--rm", "lcok:1", "cat", "/etc/marker") == "Zine"
