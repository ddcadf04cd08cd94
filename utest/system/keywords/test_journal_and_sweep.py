"""The run journal and the out-of-band sweeper (``python -m SockerlessLibrary.sweep``)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from SockerlessLibrary.errors import DaemonUnreachable
from SockerlessLibrary.journal import (
    RunJournal,
    journal_directory,
    journal_files,
    new_run_id,
    pending_entries,
    read_records,
    recorded_task_arns,
    validate_run_id,
)
from SockerlessLibrary.sweep import Sweeper, main

pytestmark = pytest.mark.timeout(60)


def record(
    journal: RunJournal,
    container_id: str,
    *,
    endpoint: str,
    kind: str = "sockerless",
    target: str = "unix:///run/sockerless.sock",
) -> None:
    journal.record_created(
        container_id,
        target=target,
        target_kind=kind,
        region="us-east-1",
        cluster="kit-test",
        endpoint_url=endpoint,
        log_group="/sockerless",
    )


def test_journal_lines_pending_and_torn_last_line(tmp_path: Path) -> None:
    journal = RunJournal(tmp_path / "j", "run-1")
    assert not journal.path.exists()  # nothing on disk before the first write
    first, second = secrets.token_hex(32), secrets.token_hex(32)
    record(journal, first, endpoint="http://127.0.0.1:1")
    record(journal, second, endpoint="http://127.0.0.1:1")
    journal.record_cleaned(first, task_arns=["arn:aws:ecs:us-east-1:1:task/kit-test/abc"])
    with journal.path.open("a") as handle:
        handle.write('{"event": "created", "container_id": "tor')  # a run killed mid-write
    lines = journal.path.read_text().splitlines()
    assert json.loads(lines[0])["event"] == "created"
    assert json.loads(lines[0])["target_kind"] == "sockerless"
    assert [entry.container_id for entry in journal.pending()] == [second]
    assert recorded_task_arns(journal.records()) == {"arn:aws:ecs:us-east-1:1:task/kit-test/abc"}
    assert journal_files(tmp_path / "j") == [journal.path]
    assert journal_files(tmp_path / "j", "run-1") == [journal.path]
    assert journal_files(tmp_path / "j", "other") == []
    assert journal_files(tmp_path / "missing") == []


def test_recreated_after_cleaned_is_pending_again(tmp_path: Path) -> None:
    journal = RunJournal(tmp_path, "r")
    cid = secrets.token_hex(32)
    record(journal, cid, endpoint="")
    journal.record_cleaned(cid)
    record(journal, cid, endpoint="")
    assert [e.container_id for e in pending_entries(read_records(journal.path))] == [cid]


def test_journal_directory_and_run_ids(tmp_path: Path) -> None:
    assert journal_directory({"SOCKERLESS_KIT_JOURNAL_DIR": str(tmp_path)}) == tmp_path
    assert journal_directory({}, cwd=tmp_path) == tmp_path / ".kit-journal"
    run_id = new_run_id()
    assert validate_run_id(run_id) == run_id
    for bad in ("", "../x", "a b", "-x", "x" * 64):
        with pytest.raises(ValueError, match="Invalid run id"):
            validate_run_id(bad)


class RecordingDaemon:
    """Stands in for the daemon's two calls; records what the sweeper asked."""

    def __init__(
        self, labelled: list[dict[str, Any]] | None = None, reachable: bool = True
    ) -> None:
        self.labelled = labelled or []
        self.reachable = reachable
        self.removed: list[str] = []
        self.filters: list[Any] = []

    def remove_container(
        self, container_id: str, *, force: bool = False, expected: Any = ()
    ) -> int:
        if not self.reachable:
            raise DaemonUnreachable("cannot connect to unix:///gone.sock: No such file")
        assert force
        self.removed.append(container_id)
        return 204

    def list_containers(self, *, all: bool = False, filters: Any = None) -> list[dict[str, Any]]:
        assert all
        self.filters.append(filters)
        return self.labelled


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return dict(os.environ)


def test_sweeper_cleans_pending_entries_and_labelled_containers(
    tmp_path: Path, moto: Any, sockerless_aws: Any, aws_env: dict[str, str]
) -> None:
    journal = RunJournal(tmp_path, "run-a")
    leftover, cleaned, daemon_only = (secrets.token_hex(32) for _ in range(3))
    for cid in (leftover, cleaned, daemon_only):
        sockerless_aws.launch(cid)
    record(journal, leftover, endpoint=moto.endpoint)
    record(journal, cleaned, endpoint=moto.endpoint)
    journal.record_cleaned(cleaned)
    stranger = secrets.token_hex(32)
    daemon = RecordingDaemon(
        labelled=[
            {
                "Id": daemon_only,
                "Labels": {
                    "sockerless-kit.project": "sockerless-ecs-acceptance",
                    "sockerless-kit.run-id": "run-b",
                },
            },
            # A daemon that ignored the filter: no project label, must not be touched.
            {"Id": stranger, "Labels": {"team": "other"}},
        ]
    )
    log: list[str] = []
    env = {
        **aws_env,
        "SOCKERLESS_ENDPOINT_URL": moto.endpoint,
        "SOCKERLESS_ECS_CLUSTER": "kit-test",
    }
    sweeper = Sweeper(
        journal_dir=tmp_path,
        env=env,
        log=log.append,
        host="unix:///x.sock",
        client_factory=lambda host: daemon,
    )
    report = sweeper.run()

    assert report.ok, asdict(report)
    assert sorted(report.cleaned) == sorted([leftover, daemon_only])
    assert sorted(daemon.removed) == sorted([leftover, daemon_only])
    assert stranger not in daemon.removed
    assert daemon.filters == [{"label": ["sockerless-kit.project=sockerless-ecs-acceptance"]}]
    assert RunJournal(tmp_path, "run-a").pending() == []
    assert [r["container_id"] for r in RunJournal(tmp_path, "run-b").records()] == [daemon_only]
    for cid in (leftover, daemon_only):
        family = "sockerless-" + cid[:12]
        assert not sockerless_aws.ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")[
            "taskDefinitionArns"
        ]
    # The container already cleaned by its run was not touched again.
    assert sockerless_aws.ecs.list_task_definitions(
        familyPrefix="sockerless-" + cleaned[:12], status="ACTIVE"
    )["taskDefinitionArns"]
    # A second sweep finds nothing.
    assert Sweeper(journal_dir=tmp_path, env=env, log=log.append).run().found == 0


def test_unreachable_daemon_leaves_the_entry_pending_and_fails(
    tmp_path: Path, moto: Any, sockerless_aws: Any, aws_env: dict[str, str]
) -> None:
    journal = RunJournal(tmp_path, "run-c")
    cid = secrets.token_hex(32)
    sockerless_aws.launch(cid)
    record(journal, cid, endpoint=moto.endpoint)
    sweeper = Sweeper(
        journal_dir=tmp_path,
        env=aws_env,
        log=lambda _: None,
        client_factory=lambda host: RecordingDaemon(reachable=False),
    )
    report = sweeper.run()
    assert not report.ok
    assert "cannot connect to unix:///gone.sock" in report.failed[cid]
    # AWS was still cleaned, but the entry stays for the next sweep.
    assert not sockerless_aws.ecs.list_task_definitions(
        familyPrefix="sockerless-" + cid[:12], status="ACTIVE"
    )["taskDefinitionArns"]
    assert [e.container_id for e in journal.pending()] == [cid]


def test_entries_of_an_exited_embedded_simulator_are_closed_without_calls(tmp_path: Path) -> None:
    journal = RunJournal(tmp_path, "run-d")
    cid = secrets.token_hex(32)
    # Port 1 on loopback: nothing listens, like a simulator that has exited.
    record(
        journal,
        cid,
        endpoint="http://127.0.0.1:1",
        kind="embedded simulator",
        target=f"unix://{tmp_path}/gone/docker.sock",
    )
    log: list[str] = []
    report = Sweeper(journal_dir=tmp_path, env={}, log=log.append).run()
    assert report.ok and report.cleaned == [cid]
    assert journal.pending() == []
    assert any("embedded simulator has exited" in line for line in log)


def test_cli_dry_run_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    journal = RunJournal(tmp_path, "run-e")
    cid = secrets.token_hex(32)
    record(journal, cid, endpoint="http://127.0.0.1:1", kind="embedded simulator")
    assert main(["--journal-dir", str(tmp_path), "--dry-run"], env={}) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0] == "sweep: 1 found, 1 would clean, 0 failed"
    assert json.loads(out[-1])["would_clean"] == [cid]
    assert journal.pending()  # dry run changed nothing
    assert main(["--journal-dir", str(tmp_path), "--run-id", "run-e"], env={}) == 0
    assert journal.pending() == []
    assert main(["--journal-dir", str(tmp_path), "--run-id", "../etc"], env={}) == 2


def test_module_entry_point_runs(tmp_path: Path) -> None:
    libraries = Path(__file__).resolve().parents[3] / "libraries"
    pythonpath = os.pathsep.join(filter(None, [str(libraries), os.environ.get("PYTHONPATH")]))
    completed = subprocess.run(
        [sys.executable, "-m", "SockerlessLibrary.sweep", "--journal-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": pythonpath},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[0] == "sweep: 0 found, 0 cleaned, 0 failed"
