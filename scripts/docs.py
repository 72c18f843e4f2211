#!/usr/bin/env python3
"""Write the generated documentation: docs/configuration.md and docs/metrics.md (from the
function's code), the bench and reliability tables in docs/performance.md and
docs/reliability.md (from bench/results.json and reports/reliability.json), and the Inputs and
Outputs tables of each Terraform module's README.

    docs.py           rewrite what is out of date
    docs.py --check   exit 1 if anything is out of date (the tests run this)
"""

from __future__ import annotations

import argparse
import sys

from pigeon_tools import docs
from pigeon_tools.paths import ROOT


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = docs.stale(write=not args.check)
    for path in stale:
        verb = "out of date (run make docs)" if args.check else "updated"
        print(f"docs: {path.relative_to(ROOT)} {verb}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
