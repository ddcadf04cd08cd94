"""The conformance matrix in a run: ``ConformanceMatrix``, a listener that records each probe and
the keyword that writes the matrix (``resources/conformance.resource`` imports it)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.api.deco import keyword, library
from robot.libraries.BuiltIn import BuiltIn

from ..capping import cap
from ..conformance import STATUSES, Matrix, MatrixError, Probe, compare, probe_message
from ..conformance.html import matrix_page, matrix_table
from ..listeners.argument_check import ArgumentCheck
from ..listeners.report_guard import log_kit_html

MATRIX_FILE = "conformance.json"
PAGE_FILE = "conformance.html"
PROBE_TAG = "conformance"
DAEMON_TEXT_LIMIT = 200


def _optional_matrix(path: str, what: str) -> Matrix | None:
    if not path:
        return None
    try:
        return Matrix.read(Path(path))
    except MatrixError as error:
        raise AssertionError(f"The {what} cannot be used: {error}") from None


@library(scope="GLOBAL", doc_format="ROBOT")
class ConformanceMatrix:
    """Records the Docker conformance probes of a run and writes their matrix.

    Every test tagged ``conformance`` is a probe: when it ends, its suite (the area), name,
    documentation (the Docker behaviour it checks), status and message are recorded.
    `Write Conformance Matrix` writes them. ``docs/conformance.md`` describes the matrix.

    As every kit keyword, `Write Conformance Matrix` refuses a ``name=value`` it does not
    know, naming its options, in a run and in ``--dryrun``.
    """

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self) -> None:
        self.probes: list[Probe] = []
        # Its own listener (the probes), and the kit's argument check for its own keyword (the
        # resource files' keywords are SockerlessLibrary's listener's to check).
        argument_check = ArgumentCheck(resource_keywords=False)
        argument_check.know(self, {"write_conformance_matrix": self.write_conformance_matrix})
        self.ROBOT_LIBRARY_LISTENER = [self, argument_check]

    def end_test(self, data: Any, result: Any) -> None:
        """Listener: record a finished probe."""
        # A test that did not run (``NOT RUN``: --dryrun, --exitonfailure) measured nothing.
        if PROBE_TAG in result.tags and result.status in STATUSES:
            probe = Probe(
                area=str(result.parent.name),
                name=str(result.name),
                checks=str(result.doc),
                status=str(result.status),
                message=probe_message(str(result.message)),
            )
            self.probes.append(probe)

    @keyword(tags=("Conformance",))
    def write_conformance_matrix(
        self,
        target: str,
        mode: str,
        *,
        run_id: str = "",
        daemon: str = "",
        label: str = "",
        baseline: str = "",
        reference: str = "",
    ) -> str:
        """Writes the matrix of the probes that ran so far; returns its one-line summary.

        | =Arguments= | =Description= |
        | ``target`` | What ran the probes, e.g. ``embedded simulator`` or the daemon's address. |
        | ``mode`` | ``docker-only`` or ``ecs`` (see `docs/conformance.md`). |
        | ``run_id`` | The run id, to find the run's report again. |
        | ``daemon`` | What the daemon says it is (``GET /version``), capped: the daemon's text. |
        | ``label`` | Free text for humans, e.g. ``sockerless 94239b82 with its AWS simulator``. |
        | ``baseline`` | An earlier run's ``conformance.json``: marks what regressed, was fixed. |
        | ``reference`` | The Docker Engine's ``conformance.json``: the Docker column. |

        Writes ``conformance.json`` and ``conformance.html`` into the output directory, logs
        the table (grouped by area) and sets the ``Docker conformance`` report metadata. A
        ``baseline`` or ``reference`` that cannot be read fails, naming the file.

        Example:
        | Write Conformance Matrix | embedded simulator | ecs | baseline=old/conformance.json |
        """
        run = {
            "target": target,
            "daemon": cap(daemon, DAEMON_TEXT_LIMIT),
            "mode": mode,
            "label": label,
            "run_id": run_id,
            "written": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        matrix = Matrix({key: value for key, value in run.items() if value}, tuple(self.probes))
        comparison = compare(
            matrix,
            baseline=_optional_matrix(baseline, "baseline"),
            reference=_optional_matrix(reference, "Docker reference matrix"),
        )
        directory = Path(str(BuiltIn().get_variable_value("${OUTPUT DIR}")))
        matrix.write(directory / MATRIX_FILE)
        (directory / PAGE_FILE).write_text(matrix_page(comparison), encoding="utf-8")
        # The kit's own markup, every value in it escaped: the report guard's allow-list.
        log_kit_html(matrix_table(comparison))
        summary = comparison.summary()
        logger.info(f"{MATRIX_FILE} and {PAGE_FILE} written to {directory}: {summary}")
        BuiltIn().set_suite_metadata("Docker conformance", summary, top=True)
        return summary
