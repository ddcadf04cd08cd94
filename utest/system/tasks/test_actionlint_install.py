"""actionlint is installed once, whoever asks first: in ``tasks.py test`` the lint step and
``utest/system/ci`` (in the parallel pytest step) both call ``tasks.actionlint`` at the same time on
a fresh checkout, and two ``go install`` runs into one ``GOBIN`` must not overlap (twice the build,
and a binary another caller may find half written where ``go`` copies instead of renaming).

A stand-in ``go`` on ``PATH`` records each install and fails when it finds another one running.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import tasks

INSTALL_SECONDS = 0.5


@pytest.fixture
def counting_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``go`` whose ``install`` takes INSTALL_SECONDS; returns the file each install appends
    a line to."""
    tools = tmp_path / "go-bin"
    tools.mkdir()
    installs = tmp_path / "installs"
    running = tmp_path / "installing"
    go = tools / "go"
    go.write_text(
        "#!/bin/sh\n"
        f'echo install >> "{installs}"\n'
        f'mkdir "{running}" 2>/dev/null || {{ echo "another install is running" >&2; exit 9; }}\n'
        f"sleep {INSTALL_SECONDS}\n"
        'mkdir -p "$GOBIN" && printf "#!/bin/sh\\n" > "$GOBIN/actionlint"\n'
        'chmod +x "$GOBIN/actionlint"\n'
        f'rmdir "{running}"\n'
    )
    go.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:/usr/bin:/bin")
    monkeypatch.setattr(tasks, "VENV", tmp_path / "venv")
    return installs


def test_two_callers_at_once_install_actionlint_once(counting_go: Path) -> None:
    found: list[Path | None] = []
    tallies = [tasks.Tally(), tasks.Tally()]
    callers = [
        threading.Thread(target=lambda t=tally: found.append(tasks.actionlint(t)))
        for tally in tallies
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(30)
    expected = tasks.VENV / "tools" / f"actionlint-{tasks.ACTIONLINT_VERSION}" / "actionlint"
    assert found == [expected, expected]
    assert counting_go.read_text() == "install\n"
    assert [tally.failed_steps for tally in tallies] == [[], []]
