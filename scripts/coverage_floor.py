"""Fail when line or branch coverage is below its floor.

coverage.py's own ``fail_under`` (pyproject.toml) is on the combined figure of lines and
branches; this checks each alone, from the JSON report that scripts/test asks pytest-cov for:

    python scripts/coverage_floor.py coverage.json --lines 96 --branches 86
"""

from __future__ import annotations

import argparse
import json
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", help="coverage JSON report (coverage json / --cov-report=json)")
    parser.add_argument("--lines", type=float, required=True, help="floor for lines, percent")
    parser.add_argument("--branches", type=float, required=True, help="floor for branches, %%")
    args = parser.parse_args()
    with open(args.report, encoding="utf-8") as handle:
        totals = json.load(handle)["totals"]
    figures = {
        "lines": (100 * totals["covered_lines"] / max(totals["num_statements"], 1), args.lines),
        "branches": (
            100 * totals["covered_branches"] / max(totals["num_branches"], 1),
            args.branches,
        ),
    }
    shown = ", ".join(
        f"{name} {got:.2f}% (floor {floor:g}%)" for name, (got, floor) in figures.items()
    )
    below = [name for name, (got, floor) in figures.items() if got < floor]
    if below:
        sys.stderr.write(f"coverage below its floor for {' and '.join(below)}: {shown}\n")
        return 1
    sys.stdout.write(f"coverage: {shown}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
