#!/usr/bin/python3
"""Two builds of the engine side by side, measured alternately so that both see the same machine load:
`run --rm busybox true`, `run -d`, `stop -t 0`, `rm`, and the daemon's idle RSS.

    bench/bench_compare.py --before /path/to/old/build --after build -n 30

Used to show that a change (a refactoring, a new module) leaves the engine's figures where they were.
Prints a Markdown table (and writes it with --out). Not a test: no pass/fail, just numbers.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Engine, ms, rss_kib, timed  # noqa: E402

OPS = ("run --rm true", "run -d", "stop -t 0", "rm")


def one_round(engine, res):
    res["run --rm true"].append(timed(engine.isula + ["run", "--rm", "busybox", "true"]))
    t = time.perf_counter()
    cid = engine.run("run", "-d", "busybox", "sleep", "1000")
    res["run -d"].append(time.perf_counter() - t)
    res["stop -t 0"].append(timed(engine.isula + ["stop", "-t", "0", cid]))
    res["rm"].append(timed(engine.isula + ["rm", cid]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True, help="build directory of the old tree")
    ap.add_argument("--after", required=True, help="build directory of the new tree")
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("--out")
    a = ap.parse_args()
    bases = {k: tempfile.mkdtemp(prefix="isd-cmp-%s-" % k, dir="/tmp") for k in ("before", "after")}
    engines = {}
    try:
        for k in ("before", "after"):
            engines[k] = Engine(getattr(a, k), bases[k])
        time.sleep(0.5)
        idle = {k: rss_kib(e.proc.pid) for k, e in engines.items()}
        res = {k: {op: [] for op in OPS} for k in engines}
        for _ in range(3):  # warm-up: page cache, first-start work
            for k, e in engines.items():
                one_round(e, {op: [] for op in OPS})
        for _ in range(a.n):
            for k, e in engines.items():
                one_round(e, res[k])
    finally:
        for e in engines.values():
            e.stop()
    lines = ["| n=%d, alternating, median / p90 ms | before | after | after / before |" % a.n,
             "| --- | --- | --- | --- |"]
    for op in OPS:
        b, f = res["before"][op], res["after"][op]
        lines.append("| %s | %s | %s | %.2fx |" % (op, ms(b), ms(f), statistics.median(f) / statistics.median(b)))
    lines.append("| daemon idle RSS | %.1f MiB | %.1f MiB | |" % (idle["before"] / 1024, idle["after"] / 1024))
    report = "\n".join(lines) + "\n"
    print(report)
    if a.out:
        with open(a.out, "w") as f:
            f.write(report)
    for b in bases.values():
        shutil.rmtree(b, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
