#!/usr/bin/env python3
"""Write the generated documentation: docs/configuration.md and docs/metrics.md (from the
function's code), the bench and reliability tables in docs/performance.md and
docs/reliability.md (from bench/results.json and reports/reliability.json), and the Inputs and
Outputs tables of each Terraform module's README.

examples:
  docs.py           rewrite what is out of date (make docs)
  docs.py --check   exit 1 if anything is out of date (the tests run this)

exit status: 0 current (or rewritten), 1 out of date (--check), 2 usage.
"""

from __future__ import annotations

from pigeon_tools import cli, docs
from pigeon_tools.paths import ROOT


def main() -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args()
    stale = docs.stale(write=not args.check)
    for path in stale:
        verb = "out of date (run make docs)" if args.check else "updated"
        print(f"docs: {path.relative_to(ROOT)} {verb}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    cli.run(main, "docs")
