"""What a run could not clean, the command that finishes it, and the sweeper without AWS.

The closing lines and report metadata are built from the journal, the last cleanup attempt and
the task proven after start (``aws/leftovers.py``); the sweeper cleans the daemon side alone
when AWS cannot be reached and says so (``sweep.py``).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from SockerlessLibrary.aws.cleanup import AwsCleanupReport
from SockerlessLibrary.aws.evidence import TaskEvidence
from SockerlessLibrary.aws.leftovers import CleanupLeft, leftover, sweep_arguments
from SockerlessLibrary.aws.teardown import ContainerCleanupResult
from SockerlessLibrary.journal import CreatedEntry, RunJournal
from SockerlessLibrary.outage import DAEMON, Outage
from SockerlessLibrary.sweep import Sweeper, main

pytestmark = pytest.mark.timeout(60)

CID = "0123456789ab" + "c" * 52
TASK = "arn:aws:ecs:us-east-1:1:task/kit/5e1f"
DEFINITION = "arn:aws:ecs:us-east-1:1:task-definition/sockerless-0123456789ab:1"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"


def entry(cid: str = CID, *, endpoint: str = "http://127.0.0.1:4566") -> CreatedEntry:
    return CreatedEntry(
        run_id="run-x",
        container_id=cid,
        target="unix:///run/sockerless.sock",
        target_kind="sockerless",
        region="us-east-1",
        cluster="kit",
        endpoint_url=endpoint,
        log_group="/sockerless",
        time="",
    )


def evidence() -> TaskEvidence:
    return TaskEvidence(CID, TASK, "cluster", "FARGATE", DEFINITION, "RUNNING", None, None, None)


def test_a_container_never_cleaned_may_leave_everything_named_by_its_id() -> None:
    item = leftover(entry(), None, None)
    assert item.daemon == "not attempted" and item.aws == "not cleaned"
    assert item.may_remain == (
        "the container on the daemon",
        "ECS tasks of family sockerless-0123456789ab in cluster kit",
        "ACTIVE task definitions of family sockerless-0123456789ab",
        "log streams /sockerless:0123456789ab/*",
    )


def test_a_proven_task_is_named_exactly_and_a_down_endpoint_is_named_not_repeated() -> None:
    report = AwsCleanupReport(CID, errors=["AWS ECS ListTasks on ... failed: " + "x" * 2000])
    last = ContainerCleanupResult(CID, daemon="removed (force)", aws=report)
    item = leftover(entry(), last, evidence(), down={"http://127.0.0.1:4566"})
    assert item.daemon == "removed (force)"
    assert item.aws == "not cleaned: the AWS endpoint http://127.0.0.1:4566 is down"
    assert item.may_remain == (
        f"ECS task {TASK}",
        f"task definition {DEFINITION}",
        "log stream /sockerless:0123456789ab/main/5e1f",
    )
    # Without an outage the first error is quoted, cut to a readable length.
    quoted = leftover(entry(), last, evidence())
    assert quoted.aws.startswith("not cleaned: AWS ECS ListTasks") and len(quoted.aws) < 400


def test_a_container_whose_aws_side_was_cleaned_leaves_only_the_daemon_side() -> None:
    last = ContainerCleanupResult(
        CID, daemon="removal failed", aws=AwsCleanupReport(CID), errors=["daemon: refused"]
    )
    item = leftover(entry(), last, evidence(), down={"unix:///run/sockerless.sock"})
    assert item.daemon == "removal failed: the daemon is down"
    assert item.aws == "cleaned"
    assert item.may_remain == ("the container on the daemon",)


def account(tmp_path: Path, **overrides: Any) -> CleanupLeft:
    outage = Outage(
        DAEMON, "unix:///run/sockerless.sock", "refused", "2026-01-01T00:00:00.000Z", 5, 3.8
    )
    fields: dict[str, Any] = {
        "run_id": "run-x",
        "journal": tmp_path / "run-x.jsonl",
        "leftovers": [leftover(entry(), None, evidence())],
        "outages": [outage],
        "sweep": sweep_arguments("run-x", tmp_path, "unix:///run/sockerless.sock"),
        "credentials": ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
    }
    fields.update(overrides)
    return CleanupLeft(**fields)


def test_the_closing_lines_name_what_is_left_what_was_down_and_the_exact_command(
    tmp_path: Path,
) -> None:
    lines = account(tmp_path).lines()
    command = (
        f"python -m SockerlessLibrary.sweep --run-id run-x --journal-dir {tmp_path.resolve()} "
        "--host=unix:///run/sockerless.sock"
    )
    assert lines[0].startswith("Cleanup could not finish: 1 container(s) of run run-x")
    assert lines[1].startswith("  container 0123456789ab on unix:///run/sockerless.sock")
    assert lines[2] == "Down during this run (nothing more was sent to them):"
    assert lines[3].startswith("  daemon unix:///run/sockerless.sock down since 2026-01-01")
    assert lines[-1].startswith(
        f"Finish the cleanup once the daemon and AWS answer again: {command}"
    )
    assert lines[-1].endswith(
        "needs this run's AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
    )
    metadata = account(tmp_path).metadata()
    assert metadata["Cleanup left"].endswith(f"finish with: {command}")
    assert metadata["Down during the run"].startswith("daemon unix:///run/sockerless.sock down")


def test_many_leftovers_are_counted_not_all_listed(tmp_path: Path) -> None:
    many = [leftover(entry(secrets.token_hex(32)), None, None) for _ in range(12)]
    lines = account(tmp_path, leftovers=many).lines()
    assert sum(line.startswith("  container ") for line in lines) == 10
    assert "  ... and 2 more in the journal" in lines


def test_an_outage_with_nothing_pending_still_names_the_sweep(tmp_path: Path) -> None:
    lines = account(tmp_path, leftovers=[]).lines()
    assert lines[0] == "Run run-x: the journal lists nothing left to clean."
    assert lines[-1].startswith("To be sure nothing of the run is left")
    assert "--run-id run-x" in lines[-1]
    assert "Cleanup left" not in account(tmp_path, leftovers=[]).metadata()


def test_the_embedded_simulator_needs_no_sweep_credentials(tmp_path: Path) -> None:
    text = "\n".join(account(tmp_path, credentials=[], embedded=True).lines())
    assert "stops with this run" in text and "credentials" not in text


# -- the sweeper when AWS cannot be reached


class Daemon:
    def __init__(self) -> None:
        self.removed: list[str] = []

    def remove_container(
        self, container_id: str, *, force: bool = False, expected: Any = ()
    ) -> int:
        self.removed.append(container_id)
        return 204

    def list_containers(self, *, all: bool = False, filters: Any = None) -> list[dict[str, Any]]:
        return []


def journal_with_one(tmp_path: Path) -> str:
    cid = secrets.token_hex(32)
    RunJournal(tmp_path, "run-y").record_created(
        cid,
        target="unix:///run/sockerless.sock",
        target_kind="sockerless",
        region="us-east-1",
        cluster="kit",
        endpoint_url="http://127.0.0.1:1",
        log_group="/sockerless",
    )
    return cid


@pytest.mark.parametrize(
    ("profile", "reason"),
    [
        (
            "",
            "no AWS credentials in the environment: run the sweep with the run's AWS_ACCESS_KEY_ID",
        ),
        ("no-such-profile", "no AWS client (ProfileNotFound: "),
    ],
)
def test_without_aws_the_sweeper_cleans_the_daemon_and_reports_aws_not_cleaned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: str, reason: str
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_PROFILE", profile)  # boto3 reads the process environment
    env = {"AWS_PROFILE": profile} if profile else {}
    cid = journal_with_one(tmp_path)
    daemon = Daemon()
    log: list[str] = []
    report = Sweeper(
        journal_dir=tmp_path, env=env, log=log.append, client_factory=lambda _host: daemon
    ).run()
    assert daemon.removed == [cid]
    assert not report.ok and report.cleaned == []
    assert report.aws_not_cleaned[cid].startswith(reason)
    assert report.failed[cid].startswith("Clean-up of container")
    assert "daemon removed (force)" in report.failed[cid]
    assert [e.container_id for e in RunJournal(tmp_path, "run-y").pending()] == [cid]


def test_the_sweep_command_exits_non_zero_and_says_the_aws_side_was_not_cleaned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cid = journal_with_one(tmp_path)
    env = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE00", "AWS_SECRET_ACCESS_KEY": SECRET}
    env.pop("AWS_ACCESS_KEY_ID")  # half the keys: credentials are missing
    code = main(["--journal-dir", str(tmp_path), "--run-id", "run-y"], env=env)
    out = capsys.readouterr()
    assert code == 1
    lines = out.out.strip().splitlines()
    assert lines[0] == "sweep: 1 found, 0 cleaned, 1 failed"
    assert lines[1].startswith("sweep: AWS side not cleaned for 1 container(s): no AWS credentials")
    # The daemon at the journal's address is not there: tried once, named as down.
    assert lines[2].startswith("sweep: down: daemon unix:///run/sockerless.sock down since")
    summary = json.loads(lines[-1])
    assert list(summary["aws_not_cleaned"]) == [cid]
    assert SECRET not in out.out + out.err
