"""The timeline in the report: a picture under each test, a line per flow in the metadata,
``timeline.json`` next to ``output.xml``, and the latency budgets.

The library's listener calls ``TimelineReporter.end_test`` after its own cleanup, so the
picture includes the teardown's calls. Everything is computed by ``..timeline`` from what the
recorder heard; the only call made here is one DescribeTasks for a task no proof or cleanup saw
STOPPED (none in a passing run of the kit's suites).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError
from robot.libraries.BuiltIn import BuiltIn
from robot.utils import timestr_to_secs

from ..capping import cap_fields
from ..errors import SockerlessError
from ..run.context import LibraryContext
from ..run.registry import scope_of_test
from ..timeline import (
    budget_settings,
    check_budgets,
    document,
    run_clock,
    timeline_of_test,
    unfinished_tasks,
)
from ..timeline_svg import render_svg
from .log import log, warn
from .report_guard import log_kit_html

TIMELINE_FILE = "timeline.json"


class TimelineReporter:
    """Turns each test's record into its picture, metadata line, JSON entry and budget check."""

    def __init__(self, context: LibraryContext) -> None:
        self.ctx = context
        self.tests: list[dict[str, Any]] = []
        self.budgets: dict[str, float] = {}
        self._metadata_names: set[str] = set()
        self.written_to: Path | None = None  # this process's timeline.json, once written

    def end_test(self, data: Any, result: Any) -> None:
        """The listener's ``end_test``: picture, metadata, JSON, budgets for this test."""
        if result.status == "SKIP":
            return
        try:
            variables = BuiltIn().get_variables(no_decoration=True)
            self.budgets = budget_settings(dict(variables.items()), timestr_to_secs)
        except ValueError as error:  # a misspelt budget fails every test, loudly
            self._fail(result, [str(error)])
            return
        traces = self.ctx.timeline.traces_of(scope_of_test(data.full_name))
        if not traces:
            return
        self._finish_tasks(traces)
        entry = timeline_of_test(data.parent.full_name, data.name, result.status, traces)
        problems = self._check_budgets(entry)
        svg = render_svg(entry)
        if svg:
            log_kit_html(f'<div class="sockerless-timeline">{svg}</div>')
        log(f"Timeline: {entry['summary']}")
        if any(container["tasks"] for container in entry["containers"]):
            self._metadata(data.parent.name, data.name, entry["summary"])
        self.tests.append(cap_fields(entry))  # a container's first line can be megabytes
        self._write()
        for recorded in self.ctx.timeline.errors():
            warn(f"The timeline left out an answer it could not read: {recorded}")
        if problems:
            self._fail(result, problems)

    @staticmethod
    def _fail(result: Any, problems: list[str]) -> None:
        result.status = "FAIL"
        message = "\n".join(problems)
        result.message = f"{result.message}\n\n{message}" if result.message else message

    def _finish_tasks(self, traces: list[Any]) -> None:
        """One DescribeTasks (per 100 tasks) for the tasks no proof or cleanup saw STOPPED."""
        arns = unfinished_tasks(traces)
        if not arns or self.ctx.aws_config().credentials == "missing":
            return
        try:
            resources = self.ctx.container_resources(self.ctx.settings.aws_timeout, log)
            self.ctx.timeline.aws_calls_made += (len(arns) + 99) // 100
            resources.describe_tasks(arns)
        except (SockerlessError, BotoCoreError, OSError) as error:
            log(f"Timeline: the last state of {len(arns)} task(s) could not be read: {error}")

    def _check_budgets(self, entry: dict[str, Any]) -> list[str]:
        if not self.budgets:
            return []
        violations = entry["budget_violations"] = check_budgets(entry, self.budgets)
        checked = ", ".join(f"{name} {seconds:g} s" for name, seconds in self.budgets.items())
        log(f"Latency budgets checked: {checked}; {len(violations)} exceeded")
        return [violation["message"] for violation in violations]

    def _metadata(self, suite: str, test: str, summary: str) -> None:
        name = f"Timeline {suite}"
        if name in self._metadata_names:
            name = f"Timeline {suite} / {test}"
        self._metadata_names.add(name)
        BuiltIn().set_suite_metadata(name, summary, top=True)

    def _write(self) -> None:
        directory = BuiltIn().get_variable_value("${OUTPUT DIR}")
        if not directory:
            return
        target = self.ctx.connected_target()
        run = {
            "run_id": self.ctx.run_id,
            "target": target.describe() if target is not None else None,
            "budgets": self.budgets,
            "clock": run_clock(self.tests),
            "cost": {"aws_calls": self.ctx.timeline.aws_calls_made},
        }
        path = Path(str(directory)) / TIMELINE_FILE
        write_timeline(path, document(run, self.tests))
        self.written_to = path


def write_timeline(path: Path, timeline: dict[str, Any]) -> None:
    """Write ``timeline.json`` whole: readers never see a half-written file."""
    text = json.dumps(timeline, indent=1)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".timeline-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    Path(temporary).replace(path)
