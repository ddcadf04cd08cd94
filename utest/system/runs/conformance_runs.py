"""The Docker conformance suite (``suites/conformance``) on one target, the matrix it wrote
(``conformance.json``) and the run's own outcomes, for the ``test_conformance_*`` modules here.

Each probe is held to an expected matrix in ``docs/conformance/`` with the library's own rule
(``Expectation.holds_for``: the status, and a regex its message matches).
"""

from __future__ import annotations

from dataclasses import dataclass

from robot_runs import BIN, RESULTS, ROOT, output_of, run

from SockerlessLibrary.conformance import Expectation, Matrix, Probe, read_expectations
from utest.outcomes import Outcome, by_name

CONFORMANCE_SUITE = "suites/conformance"
CONFORMANCE_DOCS = ROOT / "docs" / "conformance"
# The simulator's instant profile delivers a log line in 0.5 s and removes a container at once:
# a probe of something that never comes need not wait the spec's 30 s for it there.
SIMULATOR_CONFORMANCE_VARIABLES = ("LOGS_TIMEOUT:5s", "REMOVAL_TIMEOUT:5s")


@dataclass(frozen=True)
class ConformanceRun:
    """The probes of a run's matrix and its tests' outcomes, by name."""

    probes: dict[str, Probe]
    outcomes: dict[str, Outcome]


def expected(name: str) -> dict[str, Expectation]:
    """The expected matrix ``docs/conformance/<name>`` (read when the module is collected)."""
    return read_expectations(CONFORMANCE_DOCS / name)


def conformance_run(
    output_dir: str,
    robot_options: list[str],
    env: dict[str, str],
    *,
    engine: tuple[str, ...] = (),
) -> ConformanceRun:
    """Run the conformance suite into ``results/<output_dir>`` (behind ``engine``, a private
    Docker Engine handing the suite its address); skipped when no engine could be had."""
    directory = RESULTS / output_dir
    command = [
        *engine,
        *(str(BIN / "robot"), "--outputdir", str(directory), "--xunit", "xunit.xml"),
        *("--include", "conformance", *robot_options, CONFORMANCE_SUITE),
    ]
    finished = run(command, env, directory)
    output_xml = output_of(finished, directory)
    matrix = directory / "conformance.json"
    assert matrix.is_file(), f"the run wrote no conformance.json:\n{finished.output[-3000:]}"
    return ConformanceRun(Matrix.read(matrix).by_name(), by_name(output_xml))


def simulator_options(suite_name: str) -> list[str]:
    variables = [arg for value in SIMULATOR_CONFORMANCE_VARIABLES for arg in ("--variable", value)]
    return [*variables, "--name", suite_name]


def probe_problem(ran: ConformanceRun, name: str, wanted: Expectation) -> str | None:
    """Why probe ``name`` is not as expected (``None`` when it is)."""
    probe = ran.probes.get(name)
    if probe is None:
        return f"{name}: did not run"
    if wanted.holds_for(probe):
        return None
    said = probe.message.replace("\n", " | ")[:600]
    return f"{name}: expected {wanted.status} /{wanted.message}/, got {probe.status}: {said}"


def matrix_problems(ran: ConformanceRun, expectations: dict[str, Expectation]) -> list[str]:
    """Probes without an expectation, and probes whose status is not their test's (the matrix
    must say what the run said: ``robot.api``'s reading of output.xml)."""
    problems = [
        f"{name}: no expectation for this probe" for name in ran.probes if name not in expectations
    ]
    for name, probe in ran.probes.items():
        outcome = ran.outcomes.get(name)
        if outcome is None or outcome.status != probe.status:
            problems.append(
                f"{name}: the matrix says {probe.status}, the run {outcome and outcome.status}"
            )
    return problems
