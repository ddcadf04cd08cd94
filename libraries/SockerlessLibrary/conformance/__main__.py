"""``python -m SockerlessLibrary.conformance check|page``: check a matrix against expectations, or
re-make its page."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import Matrix, MatrixError, compare, expectation_lines, read_expectations
from .html import matrix_page


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``check`` a matrix against expectations, or re-make its ``page``."""
    parser = argparse.ArgumentParser(
        prog="python -m SockerlessLibrary.conformance",
        description="Check or render a Docker conformance matrix (conformance.json).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="compare each probe with an expected matrix")
    check.add_argument("--expected", type=Path, required=True)
    check.add_argument("matrix", type=Path)
    page = commands.add_parser("page", help="write conformance.html, marking changes")
    page.add_argument("matrix", type=Path)
    page.add_argument("--baseline", type=Path, help="an earlier run's conformance.json")
    page.add_argument("--reference", type=Path, help="the Docker Engine's conformance.json")
    page.add_argument("--output", type=Path, required=True)
    options = parser.parse_args(argv)
    try:
        matrix = Matrix.read(options.matrix)
        if options.command == "check":
            lines = expectation_lines(matrix, read_expectations(options.expected))
            print("\n".join(lines))
            return 1 if any(line.startswith("MISMATCH") for line in lines) else 0
        comparison = compare(
            matrix,
            baseline=Matrix.read(options.baseline) if options.baseline else None,
            reference=Matrix.read(options.reference) if options.reference else None,
        )
        options.output.write_text(matrix_page(comparison), encoding="utf-8")
        print(f"{options.output}: {comparison.summary()}")
        return 0
    except MatrixError as error:
        print(f"conformance: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
