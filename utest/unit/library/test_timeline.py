"""The timeline: what the recorder keeps, how the two clocks are aligned, the phases, figures,
budgets, summary line and picture built from it (pure functions, no daemon, no AWS)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from SockerlessLibrary.client import DockerCall
from SockerlessLibrary.timeline import (
    BUDGETS,
    TimelineRecorder,
    align,
    budget_settings,
    check_budgets,
    container_timeline,
    document,
    offset_bounds,
    seconds_text,
    timeline_of_test,
)
from SockerlessLibrary.timeline_svg import main, render_svg, tick_step

CID = "0123456789ab" + "c" * 52
OTHER = "fedcba987654" + "d" * 52
T0 = 1_800_000_000.0  # the kit's clock at the first call
SCOPE = "test:Suite.Echo"


def call(
    operation: str,
    path: str,
    sent: float,
    answered: float | None,
    status: int | None,
    **extra: Any,
) -> DockerCall:
    method = {"container logs": "GET", "inspect container": "GET", "remove container": "DELETE"}
    return DockerCall(
        operation, method.get(operation, "POST"), path, sent, answered, status, **extra
    )


def created(recorder: TimelineRecorder, container_id: str = CID, at: float = T0) -> None:
    recorder.docker_call(
        call(
            "create container",
            "/containers/create",
            at,
            at + 0.01,
            201,
            request_body={"Image": "alpine:latest", "Cmd": ["echo", "hello from fargate"]},
            response_body=json.dumps({"Id": container_id, "Warnings": []}).encode(),
        )
    )


def stamp(offset_from_t0: float, *, skew: float = 0.0) -> datetime:
    """An ECS timestamp ``offset_from_t0`` after the kit's T0, on an AWS clock ``skew`` ahead."""
    return datetime.fromtimestamp(T0 + offset_from_t0 + skew, UTC)


def echo_task(container_id: str = CID, *, skew: float = 0.0, **changes: Any) -> dict[str, Any]:
    """The described task of a short ``echo``: RunTask at +1.0, RUNNING at +4.5, STOPPED at +8."""
    family = f"sockerless-{container_id[:12]}"
    task: dict[str, Any] = {
        "taskArn": "arn:aws:ecs:us-east-1:123456789012:task/c/t1",
        "taskDefinitionArn": f"arn:aws:ecs:us-east-1:1:task-definition/{family}:1",
        "lastStatus": "STOPPED",
        "createdAt": stamp(1.0, skew=skew),
        "pullStartedAt": stamp(2.5, skew=skew),
        "pullStoppedAt": stamp(4.0, skew=skew),
        "startedAt": stamp(4.5, skew=skew),
        "stoppingAt": stamp(4.6, skew=skew),
        "executionStoppedAt": stamp(4.6, skew=skew),
        "stoppedAt": stamp(8.0, skew=skew),
        "stopCode": "EssentialContainerExited",
        "stoppedReason": "Essential container in task exited",
    }
    task.update(changes)
    return {key: value for key, value in task.items() if value is not None}


def recorded_flow(
    *, skew: float = 0.0, before_remove: tuple[DockerCall, ...] = (), **task_changes: Any
) -> TimelineRecorder:
    """Create, start (answered at +4.7), wait (exit seen at +5), logs, remove; and AWS reads."""
    recorder = TimelineRecorder(lambda: SCOPE)
    created(recorder)
    base = f"/containers/{CID}"
    recorder.docker_call(call("start container", f"{base}/start", T0 + 0.5, T0 + 4.7, 204))
    recorder.docker_call(call("wait container", f"{base}/wait", T0 + 4.8, T0 + 5.0, 200))
    recorder.tasks_described([echo_task(skew=skew, **task_changes)])
    recorder.docker_call(
        call(
            "container logs",
            f"{base}/logs",
            T0 + 9.0,
            T0 + 9.3,
            200,
            first_output=T0 + 9.2,
            first_line="hello from fargate",
        )
    )
    ms = int((T0 + 4.55 + skew) * 1000)
    recorder.log_events_read(
        f"{CID[:12]}/main/t1",
        [
            {"timestamp": ms, "message": "hello from fargate\n", "ingestionTime": ms + 4000},
        ],
    )
    for extra in before_remove:
        recorder.docker_call(extra)
    recorder.docker_call(call("remove container", base, T0 + 9.5, T0 + 9.6, 204))
    return recorder


def names(entry: dict[str, Any], lane: str) -> list[str]:
    return [p["name"] for p in entry["phases"] if p["lane"] == lane]


# -- the recorder ------------------------------------------------------------------------------


def test_the_recorder_keeps_each_containers_calls_task_and_first_log_line() -> None:
    recorder = recorded_flow()
    (trace,) = recorder.traces_of(SCOPE)
    assert trace.command == "echo hello from fargate"
    assert [mark.call for mark in trace.calls] == ["create", "start", "wait", "logs", "remove"]
    assert trace.exit_seen == T0 + 5.0
    assert trace.log_served == T0 + 9.2
    assert trace.logs_requested == T0 + 9.0
    (task,) = trace.tasks.values()
    assert task.timestamps["createdAt"] == pytest.approx(T0 + 1.0)
    assert task.stop_code == "EssentialContainerExited"
    assert trace.first_event() == pytest.approx((T0 + 4.55, T0 + 8.55), abs=0.001)


def test_calls_after_the_remove_and_of_unknown_containers_are_left_out() -> None:
    recorder = recorded_flow()
    recorder.docker_call(call("remove container", f"/containers/{CID}", T0 + 20, T0 + 20.1, 404))
    recorder.docker_call(call("start container", f"/containers/{OTHER}/start", T0, T0 + 1, 204))
    recorder.tasks_described([echo_task(OTHER)])
    (trace,) = recorder.traces_of(SCOPE)
    assert [mark.call for mark in trace.calls][-1] == "remove"
    assert recorder.trace(OTHER) is None
    assert recorder.trace(CID[:12]) is trace  # a unique prefix finds it


def test_an_exit_seen_in_inspect_counts_only_after_start() -> None:
    recorder = TimelineRecorder(lambda: SCOPE)
    created(recorder)
    exited = json.dumps({"State": {"Status": "exited"}}).encode()
    inspect = f"/containers/{CID}/json"
    recorder.docker_call(
        call("inspect container", inspect, T0 + 1, T0 + 1.1, 200, response_body=exited)
    )
    assert recorder.trace(CID).exit_seen is None  # type: ignore[union-attr]
    recorder.docker_call(call("start container", f"/containers/{CID}/start", T0 + 2, T0 + 3, 204))
    recorder.docker_call(
        call("inspect container", inspect, T0 + 4, T0 + 4.1, 200, response_body=exited)
    )
    assert recorder.trace(CID).exit_seen == T0 + 4.1  # type: ignore[union-attr]


def test_tasks_are_matched_by_tag_when_the_family_is_another() -> None:
    recorder = TimelineRecorder(lambda: SCOPE)
    created(recorder)
    task = echo_task(taskDefinitionArn="arn:aws:ecs:r:1:task-definition/custom:1")
    task["tags"] = [{"key": "sockerless-container-id", "value": CID}]
    recorder.tasks_described([task])
    assert len(recorder.trace(CID).tasks) == 1  # type: ignore[union-attr]


def test_an_answer_the_recorder_cannot_read_is_reported_not_raised() -> None:
    recorder = TimelineRecorder(lambda: SCOPE)
    created(recorder)
    recorder.log_events_read(f"{CID[:12]}/main/t1", [{"timestamp": "not a number"}])
    (error,) = recorder.errors()
    assert "GetLogEvents" in error
    assert recorder.errors() == []


# -- the two clocks ----------------------------------------------------------------------------


def test_clocks_that_agree_are_not_shifted_and_the_bounds_are_the_start_call() -> None:
    (trace,) = recorded_flow().traces_of(SCOPE)
    alignment = align(offset_bounds(trace))
    assert alignment["offset"] == 0
    # start sent +0.5 <= createdAt +1.0 (+1 ms resolution); startedAt +4.5 <= start answered +4.7
    assert alignment["offset_high"] == pytest.approx(0.501, abs=1e-6)
    assert alignment["offset_low"] == pytest.approx(-0.2, abs=1e-6)
    assert "agree" in alignment["note"]


@pytest.mark.parametrize("skew", [5.0, -5.0])
def test_an_aws_clock_off_by_seconds_is_shifted_back_into_causal_order(skew: float) -> None:
    (trace,) = recorded_flow(skew=skew).traces_of(SCOPE)
    alignment = align(offset_bounds(trace))
    low, high = alignment["offset_low"], alignment["offset_high"]
    assert low is not None and high is not None
    assert low <= skew <= high  # the true offset is within the bounds
    entry = container_timeline(trace, alignment["offset"])
    created_at = next(p for p in entry["phases"] if p["name"] == "provisioning")["start"]
    started_at = next(p for p in entry["phases"] if p["name"] == "container start")["end"]
    assert created_at >= T0 + 0.5 - 0.001  # RunTask after start was sent (ms resolution)
    assert started_at <= T0 + 4.7 + 1e-6  # RUNNING before start answered
    # durations on AWS's own clock need no shift at all
    assert entry["figures"]["provisioning"] == pytest.approx(1.5)


def test_start_answered_before_running_makes_the_bounds_inconsistent_and_says_so() -> None:
    (trace,) = recorded_flow(startedAt=stamp(6.0)).traces_of(SCOPE)
    alignment = align(offset_bounds(trace))
    assert alignment["offset"] == 0
    assert "inconsistent" in alignment["note"]


def test_whole_second_timestamps_widen_the_bound_by_that_second() -> None:
    whole = {
        name: datetime.fromtimestamp(round(T0 + at), UTC)
        for name, at in (("createdAt", 1.0), ("startedAt", 4.0), ("stoppedAt", 8.0))
    }
    none = dict.fromkeys(("pullStartedAt", "pullStoppedAt", "stoppingAt", "executionStoppedAt"))
    (trace,) = recorded_flow(**whole, **none).traces_of(SCOPE)
    (task,) = trace.tasks.values()
    assert task.resolution == 1.0
    high = next(b for b in offset_bounds(trace) if b.kind == "high")
    assert high.value == pytest.approx(1.0 + 1.0 - 0.5)


def test_sub_second_spans_across_the_clocks_are_not_measured_against_whole_seconds() -> None:
    whole = {
        "createdAt": datetime.fromtimestamp(T0 + 1, UTC),
        "startedAt": datetime.fromtimestamp(T0 + 4, UTC),
        "stoppedAt": datetime.fromtimestamp(T0 + 8, UTC),
    }
    none = dict.fromkeys(("pullStartedAt", "pullStoppedAt", "stoppingAt", "executionStoppedAt"))
    (trace,) = recorded_flow(**whole, **none).traces_of(SCOPE)
    figures = container_timeline(trace, 0.0)["figures"]
    assert figures["daemon_before_runtask"] is None
    assert figures["start_answer_after_running"] is None
    assert figures["start_to_running"] == pytest.approx(3.5)


def test_a_task_whose_timestamps_are_all_one_second_says_what_start_took() -> None:
    second = datetime.fromtimestamp(T0 + 1, UTC)
    same = {"createdAt": second, "startedAt": second, "stoppedAt": second}
    none = dict.fromkeys(("pullStartedAt", "pullStoppedAt", "stoppingAt", "executionStoppedAt"))
    entry = timeline_of_test("S", "T", "PASS", recorded_flow(**same, **none).traces_of(SCOPE))
    assert entry["summary"].startswith(
        "start: 4.20 s start call, not split (ECS timestamps in whole seconds); logs: "
    )


# -- phases and figures ------------------------------------------------------------------------


def test_every_reported_timestamp_bounds_a_phase_on_the_kits_axis() -> None:
    (trace,) = recorded_flow().traces_of(SCOPE)
    entry = container_timeline(trace, 0.0)
    assert names(entry, "ecs") == [
        "provisioning",
        "pull",
        "container start",
        "running",
        "stopping",
        "deprovisioning",
    ]
    assert names(entry, "docker") == [
        "create 201",
        "start 204",
        "wait 200",
        "logs 200",
        "remove 204",
    ]
    assert names(entry, "logs") == ["CloudWatch delivery", "until served"]
    figures = entry["figures"]
    assert figures["provisioning"] == pytest.approx(1.5)
    assert figures["pull"] == pytest.approx(1.5)
    assert figures["deprovisioning"] == pytest.approx(3.4)
    assert figures["daemon_before_runtask"] == pytest.approx(0.5)
    assert figures["start_to_running"] == pytest.approx(4.0)
    assert figures["start_answer_after_running"] == pytest.approx(0.2)
    assert figures["stop_to_stopped"] == pytest.approx(3.4)
    assert figures["stop_to_stopped_from"] == "container exit"
    assert figures["cloudwatch_delivery"] == pytest.approx(4.0)
    assert figures["log_delivery"] == pytest.approx(9.2 - 4.55, abs=0.001)
    assert figures["served_after_ingestion"] == pytest.approx(9.2 - 8.55, abs=0.001)


def test_timestamps_not_reported_are_never_guessed_into_a_split() -> None:
    missing = dict.fromkeys(("pullStartedAt", "pullStoppedAt", "stoppingAt", "executionStoppedAt"))
    (trace,) = recorded_flow(**missing).traces_of(SCOPE)
    entry = container_timeline(trace, 0.0)
    assert names(entry, "ecs") == [
        "provisioning + pull + container start",
        "running + stopping + deprovisioning",
    ]
    assert entry["figures"]["provisioning"] is None
    assert entry["tasks"][0]["not_reported"] == [
        "pullStartedAt",
        "pullStoppedAt",
        "stoppingAt",
        "executionStoppedAt",
    ]


def test_a_task_whose_pull_failed_shows_the_pull_and_no_running() -> None:
    failed = {
        "pullStoppedAt": None,
        "startedAt": None,
        "stoppingAt": stamp(4.0),
        "executionStoppedAt": stamp(4.0),
        "stoppedAt": stamp(4.3),
        "stopCode": "TaskFailedToStart",
    }
    (trace,) = recorded_flow(**failed).traces_of(SCOPE)
    entry = container_timeline(trace, 0.0)
    assert names(entry, "ecs") == ["provisioning", "pull", "deprovisioning"]
    assert entry["figures"]["pull"] == pytest.approx(1.5)
    assert entry["figures"]["start_to_running"] is None


def test_a_stop_the_kit_asked_for_counts_from_its_request() -> None:
    stop = call("stop container", f"/containers/{CID}/stop", T0 + 4.8, T0 + 8.2, 204)
    recorder = recorded_flow(stopCode="UserInitiated", before_remove=(stop,))
    (trace,) = recorder.traces_of(SCOPE)
    figures = container_timeline(trace, 0.0)["figures"]
    assert figures["stop_to_stopped"] == pytest.approx(8.0 - 4.8)
    assert figures["stop_to_stopped_from"] == "stop"


def test_the_summary_line_reads_like_the_issue_asks() -> None:
    entry = timeline_of_test("Suite", "Echo", "PASS", recorded_flow().traces_of(SCOPE))
    assert entry["summary"] == (
        "start: 0.50 s daemon + 1.50 s provisioning + 1.50 s pull + 0.50 s container start + "
        "0.20 s until start answered; stop: 3.40 s deprovisioning; "
        "logs: 4.00 s CloudWatch + 0.65 s until served"
    )


@pytest.mark.parametrize(
    ("value", "text"), [(0.0042, "0.004 s"), (0.35, "0.35 s"), (31.24, "31.2 s"), (312.0, "312 s")]
)
def test_seconds_are_written_to_a_useful_precision(value: float, text: str) -> None:
    assert seconds_text(value) == text


# -- budgets -----------------------------------------------------------------------------------


def test_budgets_come_from_robot_variables_and_an_unset_one_is_not_checked() -> None:
    variables = {"LATENCY_BUDGET_PROVISIONING": "1s", "LATENCY_BUDGET_PULL": None, "OTHER": 3}
    assert budget_settings(variables, float_seconds) == {"LATENCY_BUDGET_PROVISIONING": 1.0}


def float_seconds(value: Any) -> float:
    return float(str(value).removesuffix("s"))


def test_a_misspelt_budget_fails_loudly_naming_the_valid_ones() -> None:
    with pytest.raises(
        ValueError, match="Unknown latency budget variable LATENCY_BUDGET_PROVISION"
    ):
        budget_settings({"LATENCY_BUDGET_PROVISION": "1s"}, float_seconds)
    with pytest.raises(ValueError, match="LATENCY_BUDGET_START_TO_RUNNING"):
        budget_settings({"LATENCY_BUDGET_PROVISION": "1s"}, float_seconds)
    with pytest.raises(ValueError, match="must be a time"):
        budget_settings({"LATENCY_BUDGET_PULL": "soon"}, float_seconds)


def test_a_budget_below_a_phase_fails_with_the_phase_and_the_figure() -> None:
    entry = timeline_of_test("Suite", "Echo", "PASS", recorded_flow().traces_of(SCOPE))
    budgets = {"LATENCY_BUDGET_PROVISIONING": 1.0, "LATENCY_BUDGET_LOG_DELIVERY": 60.0}
    (violation,) = check_budgets(entry, budgets)
    assert violation["figure"] == "provisioning"
    assert violation["message"] == (
        f"Latency budget exceeded for container {CID[:12]}: provisioning (ECS createdAt -> "
        "pullStartedAt) took 1.50 s, over LATENCY_BUDGET_PROVISIONING = 1.00 s"
    )


def test_start_to_running_over_budget_names_the_phases_it_is_made_of() -> None:
    entry = timeline_of_test("Suite", "Echo", "PASS", recorded_flow().traces_of(SCOPE))
    (violation,) = check_budgets(entry, {"LATENCY_BUDGET_START_TO_RUNNING": 2.0})
    assert "start-to-RUNNING (start sent -> ECS startedAt) took 4.00 s" in violation["message"]
    assert (
        "(0.50 s daemon + 1.50 s provisioning + 1.50 s pull + 0.50 s container start"
        in (violation["message"])
    )


def test_every_budget_variable_names_a_figure_the_timeline_computes() -> None:
    (trace,) = recorded_flow().traces_of(SCOPE)
    figures = container_timeline(trace, 0.0)["figures"]
    assert {name.removeprefix("LATENCY_BUDGET_").lower() for name in BUDGETS} <= set(figures)


# -- the document and the picture --------------------------------------------------------------


def test_the_document_is_json_with_its_schema_and_every_test() -> None:
    entry = timeline_of_test("Suite", "Echo", "PASS", recorded_flow().traces_of(SCOPE))
    text = json.dumps(document({"run_id": "r1"}, [entry]))
    loaded = json.loads(text)
    assert loaded["schema"] == "sockerless-kit/timeline"
    assert loaded["version"] == 1
    assert loaded["tests"][0]["containers"][0]["tasks"][0]["ecs"]["createdAt"] == pytest.approx(
        T0 + 1.0
    )


@pytest.mark.parametrize(("span", "step"), [(0.8, 0.1), (9.0, 1.0), (45.0, 5.0), (130.0, 20.0)])
def test_axis_ticks_are_round_numbers(span: float, step: float) -> None:
    assert tick_step(span) == step


def test_the_picture_has_a_bar_per_phase_labelled_with_seconds() -> None:
    recorder = recorded_flow()
    recorder.docker_call(
        DockerCall(
            "create container",
            "POST",
            "/containers/create",
            T0,
            T0 + 0.01,
            201,
            request_body={"Cmd": ["sh", "-c", "echo '<script>x</script>'"]},
            response_body=json.dumps({"Id": OTHER}).encode(),
        )
    )
    entry = timeline_of_test("Suite", "Echo", "PASS", recorder.traces_of(SCOPE))
    svg = render_svg(entry)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" width="960"')
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    drawn = [p for c in entry["containers"] for p in c["phases"] if p["seconds"] > 0]
    assert svg.count("<rect") >= len(drawn)
    for label in ("provisioning 1.50 s", "pull 1.50 s", "deprovisioning 3.40 s"):
        assert label in svg
    assert "CloudWatch delivery 4.00 s" in svg
    assert re.search(r">0 s<", svg)  # the axis starts at the first call


def test_the_picture_says_which_timestamps_were_not_reported() -> None:
    missing = dict.fromkeys(("pullStartedAt", "pullStoppedAt", "stoppingAt", "executionStoppedAt"))
    entry = timeline_of_test("S", "T", "PASS", recorded_flow(**missing).traces_of(SCOPE))
    svg = render_svg(entry)
    assert f"{CID[:12]}: not reported: pullStartedAt, pullStoppedAt, stoppingAt" in svg
    assert "not split" in svg


def test_the_command_line_draws_a_page_from_a_document(tmp_path: Path) -> None:
    entry = timeline_of_test("Suite", "Echo", "PASS", recorded_flow().traces_of(SCOPE))
    source = tmp_path / "timeline.json"
    source.write_text(json.dumps(document({}, [entry])))
    page = tmp_path / "page.html"
    assert main([str(source), "--test", "echo", "-o", str(page)]) == 0
    assert page.read_text().count("<svg") == 1
    assert main([str(source), "--test", "nothing like it"]) == 1
