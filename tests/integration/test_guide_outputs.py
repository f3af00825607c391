"""The guide's example outputs, printed by isula as the guide shows them: `isula stats` (L3328-3338), `isula top`
(L3283-3287), `isula logs` (L3382-3388, docker's -t/--since/--tail at L16585-16600), and, where the isula chapter
shows none, the docker chapter's `history` (L17335-17341) and `events` (L17648-17680). Each test first checks that
its pattern matches the guide's own example lines (copied below with their line numbers), then isula's output."""
import re
import time
import uuid

import pytest

# ---- stats: L3332-3338. The PDF wraps PIDS onto its own line; the columns are fixed: CONTAINER 16, CPU % 10,
# MEM USAGE / LIMIT 26, MEM % 10, BLOCK I / O 26 (each followed by one space), then PIDS.
GUIDE_STATS_HEADER = "CONTAINER        CPU %      MEM USAGE / LIMIT          MEM %      BLOCK I / O                PIDS"
GUIDE_STATS_ROW = "21fac8bb9ea8     0.00       56.00 KiB / 7.45 GiB       0.00       0.00 B / 0.00 B            1"
BSIZE = r"\d+\.\d\d (B|KiB|MiB|GiB|TiB)"
STATS_ROW = re.compile(r"[0-9a-f]{12} {5}(?P<cpu>\d+\.\d\d) *(?<=^.{28})(?P<mem>%s / %s) *(?<=^.{55})"
                       r"(?P<memp>\d+\.\d\d) *(?<=^.{66})(?P<io>%s / %s) *(?<=^.{93})(?P<pids>\d+)$"
                       % (BSIZE, BSIZE, BSIZE, BSIZE))

# ---- top: L3285-3287, ps -ef's layout: numbers right-aligned under their titles, text left-aligned.
GUIDE_TOP = ["UID        PID  PPID  C STIME TTY          TIME CMD",
             "root     22166 22163  0 23:04 pts/1    00:00:00 sh"]

# ---- events: L17650-17680 (one event per line; the PDF wraps them).
GUIDE_EVENTS = [
    "2019-08-28T16:23:09.338838795+08:00 container create "
    "53450588a20800d8231aa1dc4439a734e16955387efb5f259c47737dba9e2b5e (image=busybox:latest, name=eager_wu)",
    "2019-08-28T16:23:09.397717518+08:00 network connect "
    "e2e20f52662f1ee2b01545da3b02e5ec7ff9c85adf688dce89a9eb73661dedaa "
    "(container=53450588a20800d8231aa1dc4439a734e16955387efb5f259c47737dba9e2b5e, name=bridge, type=bridge)",
    "2019-08-28T16:23:09.924121158+08:00 container resize "
    "53450588a20800d8231aa1dc4439a734e16955387efb5f259c47737dba9e2b5e (height=48, image=busybox:latest, "
    "name=eager_wu, width=210)",
]
EVENT = re.compile(r"(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}[+-]\d\d:\d\d) "
                   r"(?P<type>container|image|network|volume|daemon|plugin) (?P<action>[a-z_]+(: .*)?) "
                   r"(?P<id>\S+)( \((?P<attrs>[^=, ]+=[^,]*(, [^=, ]+=[^,]*)*)\))?")

# ---- history: L17337-17341 (docker's tabwriter: columns at least 20 wide, 3 spaces after the widest cell).
GUIDE_HISTORY = ["IMAGE               CREATED             CREATED BY          SIZE                COMMENT",
                 "be4672959e8b        15 minutes ago      bash                23B",
                 "21970dfada48        4 weeks ago                             128MB               Imported from -"]
HISTORY_CREATED = re.compile(r"(Less than a second|1 second|\d+ seconds|About a minute|\d+ minutes|About an hour|"
                             r"\d+ hours|\d+ days|\d+ weeks|\d+ months|\d+ years) ago|N/A")
HISTORY_SIZE = re.compile(r"\d{1,3}(\.\d{1,2})?(B|kB|MB|GB|TB)")

# ---- logs: L3382-3388, and docker's -t (RFC 3339 with nine digits, UTC).
GUIDE_LOGS = ["hello, world", "hello, world", "hello, world"]
LOG_TS = re.compile(r"(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (?P<line>.*)")


def check_stats_layout(lines):
    assert lines[0] == GUIDE_STATS_HEADER
    rows = [STATS_ROW.fullmatch(line) for line in lines[1:]]
    assert all(rows), lines
    return rows


def test_stats_no_stream_layout(isula, container):
    check_stats_layout([GUIDE_STATS_HEADER, GUIDE_STATS_ROW])  # the pattern is the guide's
    cid = container("run", "-d", "-m", "64m", "busybox", "sleep", "600")
    lines = isula.ok("stats", "--no-stream", cid).splitlines()
    assert len(lines) == 2
    row = check_stats_layout(lines)[0]
    assert lines[1].startswith(cid[:12] + " ")
    assert row.group("mem").endswith(" / 64.00 MiB") and row.group("pids") == "1"
    # several containers, -a: one header, one row each, the same columns
    other = container("create", "busybox", "true")
    lines = isula.ok("stats", "--no-stream", "-a").splitlines()
    rows = check_stats_layout(lines)
    ids = [line[:12] for line in lines[1:]]
    assert cid[:12] in ids and other[:12] in ids
    stopped = rows[ids.index(other[:12])]
    assert stopped.group("mem") == "0.00 B / 0.00 B" and stopped.group("pids") == "0"


def ps_columns_agree(lines):
    """Every row's fields end (numbers) or start (text) where the header's titles do, as ps aligns them."""
    header = lines[0]
    titles = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", header)]
    right = {"PID", "PPID", "C", "TIME"}
    for line in lines[1:]:
        for title, start, end in titles[:-1]:
            if title in right:
                assert line[end - 1] != " " and (end == len(line) or line[end] == " "), (title, line)
            else:
                assert line[start] != " " and (start == 0 or line[start - 1] == " "), (title, line)
        assert line[titles[-1][1] - 1] == " " and line[titles[-1][1]] != " ", line  # CMD starts under its title
    return True


def test_top_is_ps_ef_layout(isula, container):
    assert ps_columns_agree(GUIDE_TOP)
    cid = container("run", "-d", "busybox", "sh", "-c", "sleep 600 & exec sleep 601")
    lines = isula.ok("top", cid).splitlines()
    assert lines[0] == GUIDE_TOP[0]
    assert len(lines) == 3 and ps_columns_agree(lines), lines
    row = re.compile(r"root +(\d+) +(\d+) +\d+ \d\d:\d\d \? +\d\d:\d\d:\d\d sleep 60[01]")
    assert all(row.fullmatch(line) for line in lines[1:]), lines
    # ps options are passed on; their columns keep ps's alignment
    lines = isula("top", cid, "-o", "pid,comm").stdout.splitlines()
    assert lines[0] == "  PID COMMAND" and all(re.fullmatch(r" *\d+ sleep", line) for line in lines[1:]), lines


def test_events_line_format(isula):
    for line in GUIDE_EVENTS:
        m = EVENT.fullmatch(line)
        assert m, line
        keys = [kv.split("=")[0] for kv in m.group("attrs").split(", ")]
        assert keys == sorted(keys)  # the guide's attributes are sorted by key
    name = "isd-gev-%s" % uuid.uuid4().hex[:6]
    r = isula("run", "--name", name, "--label", "zz=last", "--label", "aa=first", "busybox", "true")
    assert r.returncode == 0
    cid = isula.inspect(name)["Id"]
    isula.ok("rm", name)
    out = isula.ok("events", "--since", "10m", "--until", "0s", "-n", cid).splitlines()
    matches = [EVENT.fullmatch(line) for line in out]
    assert all(matches) and len(matches) >= 4, out
    create = [m for m in matches if m.group("action") == "create"][0]
    assert create.group("type") == "container" and create.group("id") == cid
    assert create.group("attrs") == "aa=first, image=busybox, name=%s, zz=last" % name, out
    die = [m for m in matches if m.group("action") == "die"][0]
    assert die.group("attrs").split(", ")[1] == "exitCode=0", out


def tabwriter_columns(lines, minwidth=20, padding=3):
    """Cells of each line, checked against docker's tabwriter rule: a column is max(minwidth, widest + padding)."""
    starts = [m.start() for m in re.finditer(r"(?<!\S)\S+( \S+)*", lines[0])]
    cells = [[line[s:e].rstrip() for s, e in zip(starts, starts[1:] + [None])] for line in lines]
    for c in range(len(starts) - 1):
        widest = max(len(row[c]) for row in cells)
        assert starts[c + 1] - starts[c] == max(minwidth, widest + padding), (c, lines)
    return cells


def test_history_layout(isula, container):
    cells = tabwriter_columns(GUIDE_HISTORY)
    assert [r[3] for r in cells[1:]] == ["23B", "128MB"] and all(HISTORY_SIZE.fullmatch(r[3]) for r in cells[1:])
    assert all(HISTORY_CREATED.fullmatch(r[1]) for r in cells[1:])
    name = "isd-ghist-%s" % uuid.uuid4().hex[:6]
    cid = container("run", "-d", "busybox", "sh", "-c", "echo 1 > /f; sleep 600")
    isula.ok("exec", cid, "cat", "/f")
    isula.ok("commit", "-m", "guide", cid, name)
    try:
        lines = isula.ok("history", name).splitlines()
        assert lines[0].split("   ")[0] == "IMAGE" and lines[0].split()[:2] == ["IMAGE", "CREATED"]
        cells = tabwriter_columns(lines)
        assert [c.strip() for c in cells[0]] == ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]
        top = cells[1]
        assert re.fullmatch(r"[0-9a-f]{12}", top[0]) and HISTORY_CREATED.fullmatch(top[1]), top
        assert top[4] == "guide"
        assert all(HISTORY_SIZE.fullmatch(r[3]) and HISTORY_CREATED.fullmatch(r[1]) for r in cells[1:]), lines
        assert all(re.fullmatch(r"[0-9a-f]{12}|<missing>", r[0]) for r in cells[1:]), lines
        assert isula.ok("history", "-q", name).splitlines()[0] == top[0]
    finally:
        isula("rmi", "-f", name)


def test_logs_lines_timestamps_since_until_tail(isula, container):
    # each line waits for its own go-file, so each reaches the log in its own read, with its own time stamp
    cid = container("run", "-d", "busybox", "sh", "-c",
                    "for i in 1 2 3; do while [ ! -e /go$i ]; do sleep 0.02; done; echo 'hello, world'; done")
    for i in (1, 2, 3):
        isula.ok("exec", cid, "touch", "/go%d" % i)
        deadline = time.monotonic() + 30
        while len(isula.ok("logs", cid).splitlines()) < i and time.monotonic() < deadline:
            time.sleep(0.02)
    assert isula("wait", cid).stdout.strip() == "0"
    assert isula.ok("logs", cid).splitlines() == GUIDE_LOGS  # L3382-3388
    stamped = [LOG_TS.fullmatch(line) for line in isula.ok("logs", "-t", cid).splitlines()]
    assert all(stamped) and [m.group("line") for m in stamped] == GUIDE_LOGS
    t = [m.group("ts") for m in stamped]
    assert t == sorted(t) and len(set(t)) == 3
    assert isula.ok("logs", "--tail", "1", cid).splitlines() == GUIDE_LOGS[:1]
    assert isula.ok("logs", "--tail", "all", cid).splitlines() == GUIDE_LOGS
    assert isula.ok("logs", "-t", "--since", t[1], cid).splitlines() == [s.group() for s in stamped[1:]]
    assert isula.ok("logs", "-t", "--until", t[1], cid).splitlines() == [s.group() for s in stamped[:2]]
    assert isula.ok("logs", "-t", "--since", t[1], "--until", t[1], cid).splitlines() == [stamped[1].group()]
    r = isula("logs", "--tail", "many", cid)
    assert r.returncode != 0 and r.stderr.strip() == "invalid value for --tail: `many` (a number of lines or all)"
