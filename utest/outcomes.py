"""What a run's results say, read with Robot Framework's own API: the one reader of results
for the checks (``tasks.py`` and the tests alike).

``outcomes(output_xml)`` is every test's status and message (``robot.api.ExecutionResult`` and a
``ResultVisitor``), ``counts`` the run's totals, ``metadata`` and ``suite_source`` the top
suite's metadata and files, and
``junit_counts`` the totals of pytest's JUnit XML (which Robot does not read). ``Expected`` and
``mismatch`` hold a test's outcome to what a check expects of it.

``tasks.py`` runs without Robot installed (only ``.venv`` has it), so it asks through the
command line, one JSON object per file::

    .venv/bin/python -m utest.outcomes counts results/ecs/output.xml
    {"passed": 3, "failed": 0, "skipped": 0, "metadata": {"Fargate tasks": "3", ...}}
    .venv/bin/python -m utest.outcomes junit results/utest-unit.xml
    {"passed": 1020, "failed": 0, "skipped": 1}
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robot.api import ExecutionResult, ResultVisitor


@dataclass(frozen=True)
class Outcome:
    """One test of a run: its name, full name, status (PASS, FAIL, SKIP) and message."""

    name: str
    full_name: str
    status: str
    message: str


@dataclass(frozen=True)
class Counts:
    passed: int
    failed: int
    skipped: int

    def as_dict(self) -> dict[str, int]:
        return {"passed": self.passed, "failed": self.failed, "skipped": self.skipped}


class _Collector(ResultVisitor):
    def __init__(self) -> None:
        self.found: list[Outcome] = []

    def visit_test(self, test: Any) -> None:
        self.found.append(Outcome(test.name, test.full_name, test.status, test.message))


def _result(output_xml: Path | str) -> Any:
    if not Path(output_xml).is_file():
        raise FileNotFoundError(f"no robot output at {output_xml}")
    # The keywords are not needed for what is read here, and skipping them is much faster.
    return ExecutionResult(str(output_xml), include_keywords=False)


def outcomes(output_xml: Path | str) -> list[Outcome]:
    """Every test of the run, in the order it ran."""
    collector = _Collector()
    _result(output_xml).visit(collector)
    return collector.found


def by_name(output_xml: Path | str) -> dict[str, Outcome]:
    """The run's tests by name; a name that ran twice is refused (it could hide an outcome)."""
    found: dict[str, Outcome] = {}
    for outcome in outcomes(output_xml):
        if outcome.name in found:
            raise ValueError(f"{output_xml}: two tests named {outcome.name!r}")
        found[outcome.name] = outcome
    return found


def counts(output_xml: Path | str) -> Counts:
    """The run's totals (what robot's report and closing lines say)."""
    total = _result(output_xml).statistics.total
    return Counts(total.passed, total.failed, total.skipped)


def metadata(output_xml: Path | str) -> dict[str, str]:
    """The top suite's metadata (for a merged pabot run, the merged report's)."""
    return {str(name): str(value) for name, value in _result(output_xml).suite.metadata.items()}


def suite_source(output_xml: Path | str) -> Path | None:
    """Where the top suite's files were (``None`` for a run of several paths)."""
    source = _result(output_xml).suite.source
    return Path(source) if source else None


def junit_counts(junit_xml: Path | str) -> Counts:
    """The totals of pytest's JUnit XML (errors count as failed)."""
    # pytest's own file, written moments ago by the run that is being counted.
    root = ET.parse(junit_xml).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    tests = sum(int(suite.get("tests", 0)) for suite in suites)
    failed = sum(int(suite.get("failures", 0)) + int(suite.get("errors", 0)) for suite in suites)
    skipped = sum(int(suite.get("skipped", 0)) for suite in suites)
    return Counts(tests - failed - skipped, failed, skipped)


@dataclass(frozen=True)
class Expected:
    """The outcome a check expects of one test: its status and a regex its message matches."""

    status: str
    message: str = ""


def mismatch(found: dict[str, Outcome], name: str, expected: Expected) -> str | None:
    """Why test ``name`` did not end as ``expected`` (``None`` when it did)."""
    outcome = found.get(name)
    if outcome is None:
        return f"{name}: did not run (the run had: {', '.join(found) or 'no test'})"
    if outcome.status == expected.status and re.search(expected.message, outcome.message):
        return None
    pattern = f" /{expected.message}/" if expected.message else ""
    said = outcome.message.replace("\n", " | ")[:600]
    return f"{name}: expected {expected.status}{pattern}, got {outcome.status}: {said}"


def main(argv: list[str]) -> int:
    """``counts FILE...`` (robot output) or ``junit FILE...``: one JSON object per file."""
    if len(argv) < 2 or argv[0] not in ("counts", "junit"):
        print("usage: python -m utest.outcomes counts|junit FILE...", file=sys.stderr)
        return 2
    for path in argv[1:]:
        if argv[0] == "junit":
            print(json.dumps(junit_counts(path).as_dict()))
        else:
            print(json.dumps({**counts(path).as_dict(), "metadata": metadata(path)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
