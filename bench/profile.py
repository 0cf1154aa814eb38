"""Where a benchmark's time goes: one benchmark of ``bench.suite`` under py-spy, summarised.

    .venv/bin/python -m bench.profile earn|import|expiry|summary [--backend sqlite|postgres]
                                      [--quick] [--top 40] [--rate 200]

It runs ``python -m bench.suite --only NAME`` under ``py-spy record --subprocesses`` (so the
uvicorn workers and the ``patron import`` child are sampled too), without writing
``bench/results``. Then it keeps the samples of the work being measured: the stacks that pass
through the benchmark's focus frame (the purchase route, the importer, the expiry job, the
summary). It drops the samples of threads that are only waiting: for SQLite's single-writer
lock, for a pool slot, or in the event loop's ``select``. What is left is printed as each
function's inclusive share of those busy samples. A function's line numbers are merged, and
Patron's own code and the database calls are shown first.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOCUS = {
    "earn": "record (patron/api/routes/purchases.py",
    "import": "run_import (patron/cli/transfer.py",
    "expiry": "expire_due (patron/services/ledger_jobs.py",
    "summary": "summary (patron/services/analytics.py",
}
# Leaves of a thread that waits rather than works.
_WAITING = re.compile(
    r"^(acquire|wait|select|_worker|get|poll|sleep|run) \((threading|selectors|queue|"
    r"concurrent|asyncio|time)|SqlUnitOfWork.__enter__"
)
_SHOWN = re.compile(r"patron/|sqlalchemy/engine/base.py|psycopg/cursor.py|pydantic/main.py")


def summarise(raw: Path, focus: str, top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    busy = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if focus not in stack:
            continue
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        if _WAITING.search(frames[-1]):
            continue
        busy += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    if not busy:
        return "no samples of the measured work (was py-spy allowed to attach?)"
    shown = [(n, f) for f, n in inclusive.most_common() if _SHOWN.search(f)][:top]
    lines = [f"{busy} busy samples in the measured work; inclusive share of each function:"]
    lines += [f"  {n / busy * 100:5.1f}%  {frame}" for n, frame in shown]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("benchmark", choices=sorted(FOCUS))
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--rate", type=int, default=200, help="samples per second")
    args = parser.parse_args()
    spy = Path(sys.executable).with_name("py-spy")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "profile.txt"
        command = [
            *(str(spy), "record", "--subprocesses", "--format", "raw", "--rate", str(args.rate)),
            *("--output", str(raw), "--", sys.executable, "-m", "bench.suite"),
            *("--only", args.benchmark, "--backends", args.backend),
            *(["--quick"] if args.quick else []),
        ]
        env = {**os.environ, "BENCH_NO_RECORD": "1"}
        done = subprocess.run(command, cwd=ROOT, env=env, check=False)
        if done.returncode != 0 or not raw.exists():
            sys.exit(f"py-spy failed ({done.returncode}); it needs ptrace (root or CAP_SYS_PTRACE)")
        print(summarise(raw, FOCUS[args.benchmark], args.top))


if __name__ == "__main__":
    main()
