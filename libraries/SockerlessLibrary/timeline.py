"""Where a container's time went: the kit's Docker calls and its ECS task's own timestamps on one
time axis, as phases, figures, latency budgets and a JSON document a team can trend.

Nothing here asks anyone anything. ``TimelineRecorder`` is told about what the kit already does:
every Docker call the client makes (``DockerClient.call_observer``), every task a DescribeTasks
answer held and every log event a GetLogEvents read returned (``ContainerResources.observer``).
The functions below turn that record into the test's timeline (a JSON-ready ``dict``);
``timeline_svg`` draws it. The axis is the kit's clock; an AWS timestamp ``a`` is drawn at
``a - offset``, the offset bounded by the start calls (``offset_bounds``, ``align``). The
phases, the figures, the two clocks and the document: ``docs/timeline.md``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from .aws.resources import CONTAINER_ID_TAG, FAMILY_PREFIX, family_of_task_definition_arn, tag_value
from .client import DockerCall

SCHEMA = "sockerless-kit/timeline"
SCHEMA_VERSION = 1

# The ECS task's own timestamps, in lifecycle order; each one ends the phase named with it.
TASK_MILESTONES: tuple[tuple[str, str | None], ...] = (
    ("createdAt", None),
    ("pullStartedAt", "provisioning"),
    ("pullStoppedAt", "pull"),
    ("startedAt", "container start"),
    ("stoppingAt", "running"),
    ("executionStoppedAt", "stopping"),
    ("stoppedAt", "deprovisioning"),
)
ECS_TIMESTAMPS = tuple(name for name, _ in TASK_MILESTONES)
# Phases that need the container to have started; a task that never ran had none of them.
RAN_ONLY = frozenset({"running", "stopping"})
# When ECS reports timestamps in whole seconds, each is up to this much earlier than the event.
WHOLE_SECOND = 1.0
FINE_RESOLUTION = 0.001

# Docker calls by the client's operation name; inspect and list only feed "exit seen".
CALL_NAMES = {
    "create container": "create",
    "start container": "start",
    "wait container": "wait",
    "stop container": "stop",
    "kill container": "kill",
    "remove container": "remove",
    "container logs": "logs",
}
STOP_CALLS = ("stop", "kill", "remove")
EXITED_STATES = ("exited", "dead")
_CONTAINER_PATH = re.compile(r"^/containers/(?P<ref>[^/]+)(?:/(?P<action>[a-z]+))?$")

# Robot variables that set a latency budget, and what it measures, for the message. Each is the
# budget of the figure its name ends with (``LATENCY_BUDGET_PULL``: ``pull``).
BUDGETS = {
    "LATENCY_BUDGET_PROVISIONING": "provisioning (ECS createdAt -> pullStartedAt)",
    "LATENCY_BUDGET_PULL": "pull (ECS pullStartedAt -> pullStoppedAt)",
    "LATENCY_BUDGET_START_TO_RUNNING": "start-to-RUNNING (start sent -> ECS startedAt)",
    "LATENCY_BUDGET_STOP_TO_STOPPED": (
        "stop-to-STOPPED (stop sent, or the container's own exit, -> ECS stoppedAt)"
    ),
    "LATENCY_BUDGET_LOG_DELIVERY": (
        "log delivery (first line's CloudWatch timestamp -> served by the daemon)"
    ),
}
BUDGET_PREFIX = "LATENCY_BUDGET_"


# -- the record ------------------------------------------------------------------------------


@dataclass
class CallMark:
    """One Docker call of a container: when sent and answered (kit clock), with what status."""

    call: str
    sent: float
    answered: float | None
    status: int | None


@dataclass
class TaskRecord:
    """What DescribeTasks said of one ECS task: its timestamps (AWS clock) and stop code."""

    task_arn: str
    last_status: str = ""
    timestamps: dict[str, float] = field(default_factory=dict)
    stop_code: str | None = None
    stopped_reason: str | None = None

    def merge(self, task: Mapping[str, Any]) -> None:
        """Take a newer answer: timestamps once set stay, the status and stop code follow."""
        for name in ECS_TIMESTAMPS:
            value = task.get(name)  # a boto3 datetime, or epoch seconds
            if isinstance(value, datetime):
                value = value.timestamp()
            if isinstance(value, int | float):
                self.timestamps[name] = float(value)
        self.last_status = str(task.get("lastStatus") or self.last_status)
        self.stop_code = task.get("stopCode") or self.stop_code
        self.stopped_reason = task.get("stoppedReason") or self.stopped_reason

    @property
    def resolution(self) -> float:
        """1 s when every timestamp is a whole second (the endpoint truncates), else 1 ms."""
        values = list(self.timestamps.values())
        whole = len(values) >= 2 and all(value == int(value) for value in values)
        return WHOLE_SECOND if whole else FINE_RESOLUTION

    def as_dict(self) -> dict[str, Any]:
        """For the JSON document: every timestamp (``None``: not reported), the stop code."""
        return {
            "task_arn": self.task_arn,
            "last_status": self.last_status,
            "ecs": {name: self.timestamps.get(name) for name in ECS_TIMESTAMPS},
            "not_reported": [name for name in ECS_TIMESTAMPS if name not in self.timestamps],
            "stop_code": self.stop_code,
            "stopped_reason": self.stopped_reason,
            "timestamp_resolution": self.resolution,
        }


@dataclass
class ContainerTrace:
    """Everything the kit saw of one container, in the order it saw it."""

    container_id: str
    scope: str
    command: str
    calls: list[CallMark] = field(default_factory=list)
    exit_seen: float | None = None
    removed: bool = False
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    logs_requested: float | None = None
    log_served: float | None = None
    first_line: str | None = None
    # (message, timestamp, ingestionTime) of the task's stream, AWS clock, seconds
    log_events: list[tuple[str, float, float | None]] = field(default_factory=list)

    @property
    def short_id(self) -> str:
        """The first 12 characters of the ID."""
        return self.container_id[:12]

    def first_event(self) -> tuple[float, float | None] | None:
        """The CloudWatch timestamp and ingestion time of the first line the daemon served."""
        events = self.log_events
        return next(((t, i) for message, t, i in events if message == self.first_line), None)

    def tasks_in_order(self) -> list[TaskRecord]:
        """The container's tasks, oldest first (one per start)."""
        return sorted(
            self.tasks.values(), key=lambda task: task.timestamps.get("createdAt", float("inf"))
        )


def _command_of(body: Any) -> str:
    if not isinstance(body, Mapping):
        return ""
    words = [*(body.get("Entrypoint") or []), *(body.get("Cmd") or [])]
    return " ".join(str(word) for word in words) or str(body.get("Image") or "")


def _json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


class TimelineRecorder:
    """Collects, per container, what the kit's own calls showed. Thread-safe; never raises for
    an answer it does not understand (it leaves it out)."""

    def __init__(self, scope_of_now: Callable[[], str]) -> None:
        self._lock = threading.Lock()
        self._traces: dict[str, ContainerTrace] = {}
        self._errors: list[str] = []
        self.scope_of_now = scope_of_now
        self.aws_calls_made = 0  # DescribeTasks the reporter made itself (at most one a task)

    def _guarded(self, what: str, record: Callable[[], None]) -> None:
        """An observer must not break the call it observes: a failure is kept for the report."""
        try:
            record()
        except Exception as error:
            with self._lock:
                self._errors.append(f"{what}: {type(error).__name__}: {error}")

    def errors(self) -> list[str]:
        """What could not be recorded since the last call (and forget it)."""
        with self._lock:
            errors, self._errors = self._errors, []
        return errors

    # -- what the client saw -------------------------------------------------------------

    def docker_call(self, call: DockerCall) -> None:
        """A ``DockerClient.call_observer``."""
        self._guarded(f"{call.method} {call.path}", lambda: self._docker_call(call))

    def _docker_call(self, call: DockerCall) -> None:
        if call.operation == "create container":
            self._created(call)
            return
        match = _CONTAINER_PATH.match(call.path)
        if match is None:
            return
        with self._lock:
            trace = self._find(unquote(match["ref"]))
            if trace is None or trace.removed:
                return
            if call.operation == "inspect container":
                self._inspected(trace, call)
                return
            name = CALL_NAMES.get(call.operation)
            if name is None:
                return
            trace.calls.append(CallMark(name, call.sent, call.answered, call.status))
            if name == "wait" and call.status == 200 and trace.exit_seen is None:
                trace.exit_seen = call.answered
            elif name == "remove" and call.status == 204:
                trace.removed = True
            elif name == "logs" and trace.log_served is None and call.first_line is not None:
                trace.logs_requested = call.sent
                trace.log_served = call.first_output
                trace.first_line = call.first_line

    def _created(self, call: DockerCall) -> None:
        body = _json_body(call.response_body) if call.status == 201 else None
        container_id = body.get("Id") if isinstance(body, Mapping) else None
        if not isinstance(container_id, str) or not container_id:
            return
        trace = ContainerTrace(container_id, self.scope_of_now(), _command_of(call.request_body))
        trace.calls.append(CallMark("create", call.sent, call.answered, call.status))
        with self._lock:
            self._traces[container_id] = trace

    def _find(self, reference: str) -> ContainerTrace | None:
        trace = self._traces.get(reference)
        if trace is not None:
            return trace
        matches = [t for t in self._traces.values() if t.container_id.startswith(reference)]
        return matches[0] if len(matches) == 1 else None

    @staticmethod
    def _inspected(trace: ContainerTrace, call: DockerCall) -> None:
        started = any(mark.call == "start" for mark in trace.calls)
        if trace.exit_seen is not None or call.status != 200 or not started:
            return
        state = (_json_body(call.response_body) or {}).get("State")
        if isinstance(state, Mapping) and state.get("Status") in EXITED_STATES:
            trace.exit_seen = call.answered

    # -- what AWS showed (an ``AwsReadObserver``) ----------------------------------------

    def tasks_described(self, tasks: list[dict[str, Any]]) -> None:
        """Every task a DescribeTasks answer held: kept for the container it was launched for."""
        self._guarded("ECS DescribeTasks", lambda: self._tasks_described(tasks))

    def _tasks_described(self, tasks: list[dict[str, Any]]) -> None:
        with self._lock:
            for task in tasks:
                trace = self._owner(task)
                arn = str(task.get("taskArn") or "")
                if trace is None or not arn:
                    continue
                trace.tasks.setdefault(arn, TaskRecord(arn)).merge(task)

    def _owner(self, task: Mapping[str, Any]) -> ContainerTrace | None:
        tagged = tag_value(task.get("tags"), CONTAINER_ID_TAG)
        family = family_of_task_definition_arn(str(task.get("taskDefinitionArn", "")))
        short = tagged[:12] if tagged is not None else None
        for trace in self._traces.values():
            if trace.short_id == short or family == FAMILY_PREFIX + trace.short_id:
                return trace
        return None

    def log_events_read(self, stream: str, events: list[dict[str, Any]]) -> None:
        """The events of a container's stream ``<id[:12]>/...``."""
        self._guarded("Logs GetLogEvents", lambda: self._log_events_read(stream, events))

    def _log_events_read(self, stream: str, events: list[dict[str, Any]]) -> None:
        prefix = stream.split("/", 1)[0]
        with self._lock:
            trace = next((t for t in self._traces.values() if t.short_id == prefix), None)
            if trace is None:
                return
            trace.log_events = [
                (
                    str(event.get("message", "")).rstrip("\r\n"),
                    float(event.get("timestamp", 0)) / 1000,
                    None
                    if event.get("ingestionTime") is None
                    else float(event["ingestionTime"]) / 1000,
                )
                for event in events
            ]

    # -- reading it back -----------------------------------------------------------------

    def traces_of(self, scope: str) -> list[ContainerTrace]:
        """The containers created in ``scope``, in creation order."""
        with self._lock:
            return [trace for trace in self._traces.values() if trace.scope == scope]

    def trace(self, container_id: str) -> ContainerTrace | None:
        """One container's trace (a full ID or a unique prefix)."""
        with self._lock:
            return self._find(container_id)


def unfinished_tasks(traces: Iterable[ContainerTrace]) -> list[str]:
    """ARNs of tasks the kit saw but never saw STOPPED: one DescribeTasks each may finish them."""
    return [
        arn
        for trace in traces
        for arn, task in trace.tasks.items()
        if task.last_status != "STOPPED" or "stoppedAt" not in task.timestamps
    ]


# -- the two clocks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    """``offset >= value`` (``kind`` "low") or ``offset <= value`` ("high"), and why."""

    kind: str
    value: float
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """For the JSON document."""
        return {**asdict(self), "value": round(self.value, 6)}


def _starts(trace: ContainerTrace) -> list[CallMark]:
    return [mark for mark in trace.calls if mark.call == "start" and mark.status != 304]


def offset_bounds(trace: ContainerTrace) -> list[Bound]:
    """What the order of calls proves about ``offset = AWS clock - kit clock``, per task.

    The n-th start that was not a 304 launched the n-th task (by createdAt).
    """
    bounds: list[Bound] = []
    for start, task in zip(_starts(trace), trace.tasks_in_order(), strict=False):
        stamps, slack = task.timestamps, task.resolution
        created = stamps.get("createdAt")
        if created is not None:
            bounds.append(
                Bound("high", created + slack - start.sent, "start sent <= ECS createdAt")
            )
        if start.answered is None:
            continue
        if "startedAt" in stamps:
            bounds.append(
                Bound(
                    "low", stamps["startedAt"] - start.answered, "ECS startedAt <= start answered"
                )
            )
        elif created is not None:
            bounds.append(Bound("low", created - start.answered, "ECS createdAt <= start answered"))
    return bounds


def align(bounds: Sequence[Bound]) -> dict[str, Any]:
    """The clock of the document: the offset (AWS minus kit) the axis uses, 0 when the bounds
    allow it, else the bound nearest to 0, and what bounds it."""
    low = max((bound.value for bound in bounds if bound.kind == "low"), default=None)
    high = min((bound.value for bound in bounds if bound.kind == "high"), default=None)
    offset = 0.0
    if not bounds:
        note = "no start of a task seen: clocks assumed to agree, unbounded"
    elif low is not None and high is not None and low > high:
        note = (
            f"inconsistent bounds ({low:+.3f} s > {high:+.3f} s: the daemon answered start "
            "before ECS says the task got there, or a clock jumped); clocks assumed to agree"
        )
    else:
        if low is not None and low > 0:
            offset = low
        elif high is not None and high < 0:
            offset = high
        note = (
            "clocks assumed to agree (0 is within the bounds)"
            if offset == 0
            else f"AWS timestamps shifted by {-offset:+.3f} s: the least shift that keeps the "
            "calls in causal order"
        )
    return {
        "axis": "kit wall clock (time.time(), epoch seconds)",
        "offset": round(offset, 6),
        "offset_low": None if low is None else round(low, 6),
        "offset_high": None if high is None else round(high, 6),
        "bounds": [bound.as_dict() for bound in bounds],
        "note": note,
    }


# -- phases, figures -----------------------------------------------------------------------


def _phase(lane: str, name: str, start: float, end: float) -> dict[str, Any]:
    return {
        "lane": lane,
        "name": name,
        "start": round(start, 6),
        "end": round(end, 6),
        "seconds": round(end - start, 6),
    }


def task_phases(task: TaskRecord, offset: float) -> list[dict[str, Any]]:
    """One phase between each two consecutive timestamps ECS reported, on the kit's axis.

    A span over timestamps that were not reported is named after every phase it covers
    (``provisioning + pull``): the split is not guessed. Phases a task that never ran cannot
    have had (running, stopping) are left out of such names.
    """
    impossible: set[str] = set()
    if "startedAt" not in task.timestamps:  # it never ran (a task that failed its pull)
        impossible |= RAN_ONLY
        if "pullStoppedAt" not in task.timestamps:  # no container starts without its image
            impossible.add("container start")
    phases: list[dict[str, Any]] = []
    previous: tuple[str, float] | None = None
    covered: list[str] = []
    for name, ends in TASK_MILESTONES:
        if ends is not None and ends not in impossible:
            covered.append(ends)
        value = task.timestamps.get(name)
        if value is None:
            continue
        if previous is not None and covered and value >= previous[1]:
            phases.append(_phase("ecs", " + ".join(covered), previous[1] - offset, value - offset))
        previous, covered = (name, value), []
    return phases


def _calls_lane(trace: ContainerTrace) -> list[dict[str, Any]]:
    phases = []
    for mark in trace.calls:
        status = "no answer" if mark.status is None else str(mark.status)
        end = mark.sent if mark.answered is None else mark.answered
        phases.append(_phase("docker", f"{mark.call} {status}", mark.sent, end))
    return phases


def _logs_lane(trace: ContainerTrace, offset: float) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    event = trace.first_event()
    logs: dict[str, Any] = {
        "first_line": trace.first_line,
        "requested": trace.logs_requested,
        "served": trace.log_served,
        "event_timestamp": None if event is None else event[0],
        "ingestion_time": None if event is None else event[1],
    }
    if event is None or trace.log_served is None:
        return [], logs
    timestamp, ingested = event
    phases = []
    if ingested is not None:
        phases.append(_phase("logs", "CloudWatch delivery", timestamp - offset, ingested - offset))
        served_from = max(ingested - offset, timestamp - offset)
        phases.append(
            _phase("logs", "until served", served_from, max(trace.log_served, served_from))
        )
    else:
        phases.append(_phase("logs", "until served", timestamp - offset, trace.log_served))
    return phases, logs


def _span(begin: float | None, end: float | None) -> float | None:
    return None if begin is None or end is None else end - begin


def figures(trace: ContainerTrace, offset: float) -> dict[str, Any]:
    """The figures a team trends and the budgets check, in seconds (``None``: not known).

    Phase figures come from the first task; ``start_to_running``, ``stop_to_stopped`` and
    ``log_delivery`` cross the two clocks and so depend on the offset.
    """
    tasks, starts = trace.tasks_in_order(), _starts(trace)
    task = tasks[0] if tasks else None
    start = starts[0] if starts else None
    seconds = {p["name"]: float(p["seconds"]) for p in task_phases(task, offset)} if task else {}
    result: dict[str, Any] = {
        name.replace(" ", "_"): seconds.get(name) for _, name in TASK_MILESTONES if name
    }

    def aligned(value: float | None) -> float | None:
        return None if value is None else value - offset

    stamps = task.timestamps if task else {}
    created, started = aligned(stamps.get("createdAt")), aligned(stamps.get("startedAt"))
    sent, answered = (start.sent, start.answered) if start else (None, None)
    # Sub-second spans across the clocks mean nothing against timestamps in whole seconds.
    fine = task is not None and task.resolution < WHOLE_SECOND
    result["daemon_before_runtask"] = _span(sent, created) if fine else None
    result["start_to_running"] = _span(sent, started)
    result["start_answer_after_running"] = _span(started, answered) if fine else None
    result.update(_stop_figures(trace, task, start, aligned(stamps.get("stoppedAt"))))
    timestamp, ingested = trace.first_event() or (None, None)
    result["cloudwatch_delivery"] = _span(timestamp, ingested)
    result["log_delivery"] = _span(aligned(timestamp), trace.log_served)
    result["served_after_ingestion"] = _span(aligned(ingested), trace.log_served)
    return {
        key: round(value, 6) if isinstance(value, float) else value for key, value in result.items()
    }


def _stop_figures(
    trace: ContainerTrace,
    task: TaskRecord | None,
    start: CallMark | None,
    stopped: float | None,
) -> dict[str, Any]:
    """``stop_to_stopped``: from the kit's first stop/kill/remove after start to stoppedAt; for a
    task whose container exited by itself, from its executionStoppedAt (AWS clock)."""
    if task is None or stopped is None:
        return {"stop_to_stopped": None, "stop_to_stopped_from": None}
    answered = start.answered if start is not None and start.answered is not None else 0.0
    request = next(
        (m for m in trace.calls if m.call in STOP_CALLS and answered <= m.sent <= stopped),
        None,
    )
    if task.stop_code == "UserInitiated" and request is not None:
        return {"stop_to_stopped": stopped - request.sent, "stop_to_stopped_from": request.call}
    execution = task.timestamps.get("executionStoppedAt")
    if execution is not None:
        return {
            "stop_to_stopped": task.timestamps["stoppedAt"] - execution,
            "stop_to_stopped_from": "container exit",
        }
    return {"stop_to_stopped": None, "stop_to_stopped_from": None}


def container_timeline(trace: ContainerTrace, offset: float) -> dict[str, Any]:
    """One container's entry of the document (see ``docs/timeline.md``)."""
    tasks = trace.tasks_in_order()
    ecs_phases = [phase for task in tasks for phase in task_phases(task, offset)]
    log_phases, logs = _logs_lane(trace, offset)
    return {
        "container_id": trace.container_id,
        "short_id": trace.short_id,
        "command": trace.command,
        "docker_calls": [asdict(mark) for mark in trace.calls],
        "exit_seen": trace.exit_seen,
        "tasks": [task.as_dict() for task in tasks],
        "logs": logs,
        "phases": [*_calls_lane(trace), *ecs_phases, *log_phases],
        "figures": figures(trace, offset),
    }


def timeline_of_test(
    suite: str,
    test: str,
    status: str,
    traces: Sequence[ContainerTrace],
) -> dict[str, Any]:
    """A test's entry of the document: its containers on one axis, one offset for all."""
    clock = align([bound for trace in traces for bound in offset_bounds(trace)])
    containers = [container_timeline(trace, clock["offset"]) for trace in traces]
    moments = [
        moment
        for container in containers
        for phase in container["phases"]
        for moment in (phase["start"], phase["end"])
    ]
    if containers and containers[0]["exit_seen"] is not None:
        moments.append(containers[0]["exit_seen"])
    entry: dict[str, Any] = {
        "suite": suite,
        "test": test,
        "status": status,
        "origin": min(moments) if moments else None,
        "clock": clock,
        "containers": containers,
        "budget_violations": [],
    }
    entry["summary"] = summary_line(entry)
    return entry


# -- words ---------------------------------------------------------------------------------------


def seconds_text(value: float) -> str:
    """``0.004 s``, ``0.35 s``, ``8.40 s``, ``31.2 s``, ``312 s``."""
    if abs(value) < 0.1:
        return f"{value:.3f} s"
    if abs(value) < 10:
        return f"{value:.2f} s"
    if abs(value) < 100:
        return f"{value:.1f} s"
    return f"{value:.0f} s"


def _terms(parts: Iterable[tuple[str, float | None]]) -> str:
    """``0.6 s daemon + 31 s provisioning``; unknown and zero-length parts are left out."""
    return " + ".join(
        f"{seconds_text(value)} {name}" for name, value in parts if value is not None and value != 0
    )


_START_PHASES = ("provisioning", "pull", "container start")


def start_summary(container: Mapping[str, Any]) -> str:
    """``0.6 s daemon + 31.2 s provisioning + 8.4 s pull + ...``: where the start of a container
    ECS launched a task for went, followed by ``(never ran)`` when the task did not run."""
    ecs = [phase for phase in container["phases"] if phase["lane"] == "ecs"]
    figures_ = container["figures"]
    task = container["tasks"][0]
    before_running = [(p["name"], p["seconds"]) for p in ecs if _within(p["name"], _START_PHASES)]
    start = _terms(
        [
            ("daemon", figures_["daemon_before_runtask"]),
            *before_running,
            ("until start answered", figures_["start_answer_after_running"]),
        ]
    )
    if not start:  # no ECS phase of any length: say what the start call took
        call = next((c for c in container["docker_calls"] if c["call"] == "start"), None)
        took = None if call is None or call["answered"] is None else call["answered"] - call["sent"]
        start = "not split" if took is None else f"{seconds_text(took)} start call, not split"
        if task["timestamp_resolution"] >= WHOLE_SECOND:
            start += " (ECS timestamps in whole seconds)"
    return start + ("" if task["ecs"].get("startedAt") is not None else " (never ran)")


def container_summary(container: Mapping[str, Any]) -> str:
    """``start: 0.6 s daemon + 31.2 s provisioning + 8.4 s pull + ...; stop: ...; logs: ...``
    of a container ECS launched a task for."""
    ecs = [phase for phase in container["phases"] if phase["lane"] == "ecs"]
    figures_ = container["figures"]
    after = [
        (p["name"], p["seconds"])
        for p in ecs
        if not _within(p["name"], _START_PHASES) and p["name"] != "running"
    ]
    parts = [f"start: {start_summary(container)}"]
    if stop := _terms(after):
        parts.append(f"stop: {stop}")
    if figures_["log_delivery"] is not None:
        logs = _terms(
            [
                ("CloudWatch", figures_["cloudwatch_delivery"]),
                ("until served", figures_["served_after_ingestion"]),
            ]
        )
        parts.append(f"logs: {logs or seconds_text(figures_['log_delivery'])}")
    return "; ".join(parts)


def _within(name: str, names: Sequence[str]) -> bool:
    return all(part in names for part in name.split(" + "))


def summary_line(entry: Mapping[str, Any]) -> str:
    """The flow's line for the report metadata: its first task's phases."""
    launched = [c for c in entry["containers"] if c["tasks"]]
    if not launched:
        return "no ECS task seen"
    more = len(launched) - 1
    extra = f" (+{more} more container{'s' if more > 1 else ''})" if more else ""
    return container_summary(launched[0]) + extra


# -- budgets -------------------------------------------------------------------------------------


def budget_settings(
    variables: Mapping[str, Any], to_seconds: Callable[[Any], float]
) -> dict[str, float]:
    """``{variable: seconds}`` of the budgets set among Robot's ``variables`` (undecorated
    names). A ``LATENCY_BUDGET_*`` name that is not a budget, or a value that is not a time,
    is a ``ValueError`` naming the valid ones: a misspelt budget must not be ignored."""
    settings: dict[str, float] = {}
    for name, value in variables.items():
        upper = str(name).upper()
        if not upper.startswith(BUDGET_PREFIX) or value in (None, ""):
            continue
        if upper not in BUDGETS:
            raise ValueError(
                f"Unknown latency budget variable {name}: the budgets are {', '.join(BUDGETS)}"
            )
        try:
            settings[upper] = float(to_seconds(value))
        except (TypeError, ValueError):
            raise ValueError(
                f"Latency budget {name} must be a time (e.g. 30s, 1 min), got {value!r}"
            ) from None
    return settings


def check_budgets(entry: Mapping[str, Any], budgets: Mapping[str, float]) -> list[dict[str, Any]]:
    """Every figure of every container of the test that exceeds its budget, as the document's
    ``budget_violations`` hold them (``message``: the test's failure)."""
    violations = []
    for variable, budget in budgets.items():
        figure, meaning = variable.removeprefix(BUDGET_PREFIX).lower(), BUDGETS[variable]
        for container in entry["containers"]:
            value = container["figures"].get(figure)
            if value is None or value <= budget:
                continue
            detail = ""
            if figure == "start_to_running":
                detail = f" ({start_summary(container)})"
            violations.append(
                {
                    "variable": variable,
                    "figure": figure,
                    "seconds": round(value, 6),
                    "budget": budget,
                    "container": container["short_id"],
                    "message": f"Latency budget exceeded for container {container['short_id']}: "
                    f"{meaning} took {seconds_text(value)}, over {variable} = "
                    f"{seconds_text(budget)}{detail}",
                }
            )
    return violations


# -- the document --------------------------------------------------------------------------------


def document(run: Mapping[str, Any], tests: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``timeline.json``: the run (id, target, budgets, the timeline's own cost) and its tests."""
    return {"schema": SCHEMA, "version": SCHEMA_VERSION, "run": dict(run), "tests": list(tests)}


def run_clock(tests: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The run's clock: one offset within the bounds of every test."""
    return align([Bound(**bound) for test in tests for bound in test["clock"]["bounds"]])


def merge_documents(run_id: str, documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One ``timeline.json`` for the processes of one run (pabot): every test of every process,
    each with its process's ``run_id``; the run's clock over all of them, its cost summed, and
    each process's own ``run`` part under ``run.processes``."""
    processes: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []
    for each in documents:
        run = dict(each.get("run") or {})
        processes.append(run)
        tests.extend({**test, "run_id": run.get("run_id")} for test in each.get("tests") or [])
    targets = list(dict.fromkeys(str(run["target"]) for run in processes if run.get("target")))
    budgets: dict[str, Any] = next(
        (dict(run["budgets"]) for run in processes if run.get("budgets")), {}
    )
    aws_calls = sum(int((run.get("cost") or {}).get("aws_calls", 0)) for run in processes)
    merged_run = {
        "run_id": run_id,
        "target": targets[0] if len(targets) == 1 else targets or None,
        "budgets": budgets,
        "clock": run_clock(tests),
        "cost": {"aws_calls": aws_calls},
        "processes": processes,
    }
    return document(merged_run, tests)
