"""The Docker conformance matrix: what each probe of ``suites/conformance`` found on a target.

A run of the conformance suite records one `Probe` per test (its area, its name, the Docker
behaviour it checks, PASS/FAIL/SKIP and the kit's message) and writes them as ``conformance.json``
(`Matrix`). Two matrices compare: against the reference Docker Engine's (the Docker column) and
against an earlier run of the same target (what regressed and what was fixed), in `compare`. The
project's check holds each simulator profile to an expected matrix (`expectation_lines`).
Rendering is ``conformance/html.py``, the command line ``conformance/__main__.py``; the Robot side
is ``keywords/conformance.py``.

    python -m SockerlessLibrary.conformance check --expected EXPECTED.json conformance.json
    python -m SockerlessLibrary.conformance page conformance.json --baseline OLD.json \\
        --reference DOCKER.json --output conformance.html
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..capping import LINE_LIMIT, NOTE_ROOM, cap_lines

FORMAT = "sockerless-kit-conformance/1"
STATUSES = ("PASS", "FAIL", "SKIP")
# The kit's message quotes what the daemon answered: hostile text, kept to a readable size in a
# table cell (each line also to capping's LINE_LIMIT).
MESSAGE_LIMIT = 1500
NOT_MEASURED = "not measured"

# How a probe's status moved since an earlier run (``compare``'s ``baseline``).
REGRESSED = "regressed"
FIXED = "fixed"
NEW = "new"
UNCHANGED = "unchanged"
CHANGED = "changed"  # to or from SKIP


class MatrixError(ValueError):
    """A conformance.json (or expectations file) that cannot be read: names the file and why."""


def probe_message(text: str) -> str:
    """A probe's message as the matrix keeps it: each line cut after ``LINE_LIMIT`` characters,
    no more lines than fit in ``MESSAGE_LIMIT``, each cut saying how much it left out, known
    secrets masked (``capping.cap_lines``)."""
    return cap_lines(text, LINE_LIMIT, MESSAGE_LIMIT)


@dataclass(frozen=True)
class Probe:
    """One test of the conformance suite on one target."""

    area: str
    name: str
    checks: str  # the Docker behaviour and where Docker documents it (the test's documentation)
    status: str
    message: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise MatrixError(
                f"probe '{self.name}': status {self.status!r} is not one of {STATUSES}"
            )
        # What probe_message made is kept as it is (its notes of a cut fit in NOTE_ROOM);
        # anything longer (a matrix file from elsewhere) is cut.
        kept = cap_lines(self.message, LINE_LIMIT + NOTE_ROOM, MESSAGE_LIMIT + NOTE_ROOM)
        object.__setattr__(self, "message", kept)


@dataclass(frozen=True)
class Matrix:
    """A run's probes, in the order they ran, and what the run was (``run``: target, mode, ...)."""

    run: Mapping[str, str]
    probes: tuple[Probe, ...]

    def __post_init__(self) -> None:
        names = [probe.name for probe in self.probes]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise MatrixError(f"probe names must be unique, these come twice: {twice}")

    def by_name(self) -> dict[str, Probe]:
        """The probes by name."""
        return {probe.name: probe for probe in self.probes}

    def document(self) -> dict[str, Any]:
        """The JSON document (``conformance.json``)."""
        return {
            "format": FORMAT,
            "run": dict(self.run),
            "probes": [asdict(probe) for probe in self.probes],
        }

    def write(self, path: Path) -> None:
        """Write ``conformance.json`` whole (readers never see half a file)."""
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(json.dumps(self.document(), indent=1, ensure_ascii=False) + "\n")
        temporary.replace(path)

    @classmethod
    def from_document(cls, document: Any, source: str = "the matrix") -> Matrix:
        """A matrix from its JSON document; a `MatrixError` naming ``source`` when it is not one."""
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise MatrixError(f"{source} is not a conformance matrix (format {FORMAT!r})")
        run, probes = document.get("run"), document.get("probes")
        if not isinstance(run, dict) or not isinstance(probes, list):
            raise MatrixError(f"{source} needs a 'run' object and a 'probes' list")
        try:
            return cls(
                {str(key): str(value) for key, value in run.items()},
                tuple(Probe(**entry) for entry in probes),
            )
        except TypeError as error:
            raise MatrixError(f"{source} has a probe that is not one: {error}") from None

    @classmethod
    def read(cls, path: Path) -> Matrix:
        """Read a ``conformance.json``."""
        return cls.from_document(_read_json(path), str(path))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise MatrixError(f"cannot read {path}: {error.strerror or error}") from None
    except json.JSONDecodeError as error:
        raise MatrixError(f"{path} is not JSON: {error}") from None


def change_between(before: str | None, now: str) -> str:
    """How a probe moved from ``before`` (``None``: not in the earlier run) to ``now``."""
    if before is None:
        return NEW
    if before == now:
        return UNCHANGED
    if before == "PASS" and now == "FAIL":
        return REGRESSED
    if before == "FAIL" and now == "PASS":
        return FIXED
    return CHANGED


@dataclass(frozen=True)
class Row:
    """One probe as the matrix shows it: this target, the reference Docker Engine, the change."""

    probe: Probe
    reference: str  # the probe's status on the reference Docker Engine, or NOT_MEASURED
    change: str | None  # since the baseline; None without one
    before: str | None = None  # its status in the baseline


@dataclass(frozen=True)
class Comparison:
    """A matrix next to the Docker reference and, optionally, an earlier run of its target."""

    run: Mapping[str, str]
    rows: tuple[Row, ...]
    baseline_run: Mapping[str, str] | None = None
    reference_run: Mapping[str, str] | None = None
    gone: tuple[Probe, ...] = field(default=())  # in the baseline, not in this run

    def areas(self) -> list[tuple[str, list[Row]]]:
        """The rows grouped by area, areas in the order they first ran."""
        grouped: dict[str, list[Row]] = {}
        for row in self.rows:
            grouped.setdefault(row.probe.area, []).append(row)
        return list(grouped.items())

    def summary(self) -> str:
        """One line: ``31 probes: 27 pass, 4 fail, 0 skip; since the baseline: 1 regressed, ...``"""
        statuses = [row.probe.status for row in self.rows]
        text = f"{len(self.rows)} probes: " + ", ".join(
            f"{statuses.count(status)} {status.lower()}" for status in STATUSES
        )
        if self.baseline_run is not None:
            changes = [row.change for row in self.rows]
            text += (
                f"; since the baseline: {changes.count(REGRESSED)} regressed, "
                f"{changes.count(FIXED)} fixed, {changes.count(NEW)} new, {len(self.gone)} gone"
            )
        return text


def compare(
    current: Matrix, *, baseline: Matrix | None = None, reference: Matrix | None = None
) -> Comparison:
    """``current`` with each probe's reference status and, given ``baseline``, its change."""
    earlier = baseline.by_name() if baseline is not None else {}
    docker = reference.by_name() if reference is not None else {}
    rows = []
    for probe in current.probes:
        before = earlier[probe.name].status if probe.name in earlier else None
        measured = docker[probe.name].status if probe.name in docker else NOT_MEASURED
        change = change_between(before, probe.status) if baseline is not None else None
        rows.append(Row(probe, reference=measured, change=change, before=before))
    names = {probe.name for probe in current.probes}
    gone = tuple(p for p in baseline.probes if p.name not in names) if baseline else ()
    return Comparison(
        run=current.run,
        rows=tuple(rows),
        baseline_run=baseline.run if baseline is not None else None,
        reference_run=reference.run if reference is not None else None,
        gone=gone,
    )


@dataclass(frozen=True)
class Expectation:
    """What the project's check expects of one probe: a status, and a regex of its message."""

    status: str
    message: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise MatrixError(f"expected status {self.status!r} is not one of {STATUSES}")
        try:
            re.compile(self.message)
        except re.error as error:
            raise MatrixError(f"expected message {self.message!r} is no regex: {error}") from None

    def holds_for(self, probe: Probe) -> bool:
        """Whether ``probe`` has this status and a message this regex finds."""
        return probe.status == self.status and re.search(self.message, probe.message) is not None


def read_expectations(path: Path) -> dict[str, Expectation]:
    """An expected matrix: ``{"probes": {"<probe>": {"status": "FAIL", "message": "<regex>"}}}``,
    or a matrix (``conformance.json``), whose probes are expected with their statuses: the
    reference Docker Engine's matrix is what the Docker Engine must give again."""
    document = _read_json(path)
    if isinstance(document, dict) and document.get("format") == FORMAT:
        reference = Matrix.from_document(document, str(path))
        return {probe.name: Expectation(probe.status) for probe in reference.probes}
    probes = document.get("probes") if isinstance(document, dict) else None
    if not isinstance(probes, dict):
        raise MatrixError(f"{path} needs a 'probes' object of probe name -> expectation")
    try:
        return {str(name): Expectation(**wanted) for name, wanted in probes.items()}
    except TypeError as error:
        raise MatrixError(f"{path} has an expectation that is not one: {error}") from None


def expectation_lines(matrix: Matrix, expected: Mapping[str, Expectation]) -> list[str]:
    """One line per probe: ``ok <probe>: <status>`` or ``MISMATCH <probe>: ...``, and one
    ``MISMATCH`` per expected probe that did not run."""
    lines = []
    for probe in matrix.probes:
        wanted = expected.get(probe.name)
        first_line = probe.message.splitlines()[0] if probe.message else ""
        if wanted is None:
            lines.append(f"MISMATCH {probe.name}: no expectation for this probe ({probe.status})")
        elif not wanted.holds_for(probe):
            lines.append(
                f"MISMATCH {probe.name}: expected {wanted.status} /{wanted.message}/, got "
                f"{probe.status}: " + probe.message.replace("\n", " | ")[:400]
            )
        else:
            detail = f" ({first_line})" if first_line else ""
            lines.append(f"ok {probe.name}: {probe.status}{detail}")
    ran = {probe.name for probe in matrix.probes}
    lines.extend(f"MISMATCH {name}: did not run" for name in expected if name not in ran)
    return lines
