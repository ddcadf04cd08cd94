"""The Fargate task budget at `Create Container`: what the scripted daemon receives, and when not.

The daemon is the scripted unix-socket server of ``conftest.py``: its request log is exactly
what the library sent, so "a create beyond the budget sends nothing" is checked request by
request. The target is a real one (``host``) without AWS credentials: cleanup stays on the daemon.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from SockerlessLibrary import SockerlessLibrary
from SockerlessLibrary.budget import InvalidTaskBudget, TaskBudgetExhausted
from SockerlessLibrary.errors import DaemonResponseError, SockerlessError

pytestmark = pytest.mark.timeout(30)

CREATE = "POST /v1.44/containers/create"


@pytest.fixture(autouse=True)
def environment(isolated_journal: Path) -> Path:
    """A journal in ``tmp_path``, no AWS credentials, no budget settings from the outside."""
    return isolated_journal


def docker(answers: dict[str, tuple[int, Any]] | None = None, drop: set[str] | None = None):
    """Creates answer 201 with a new ID, or ``answers[name]``; a name in ``drop`` gets no answer."""

    def respond(connection, request) -> None:
        if request.path.endswith("/_ping"):
            connection.respond(200, "OK", b"OK", content_type="text/plain")
        elif request.path.endswith("/containers/create"):
            name = request.query.get("name", [""])[0]
            if name in (drop or set()):
                connection.shutdown_write()  # the daemon goes silent: no answer will come
            elif name in (answers or {}):
                status, payload = (answers or {})[name]
                connection.respond_json(status, "Refused", payload)
            else:
                connection.respond_json(201, "Created", {"Id": secrets.token_hex(32)})
        elif request.path.endswith("/containers/json"):
            connection.respond_json(200, "OK", [])
        else:
            connection.respond(204, "No Content")

    return respond


@pytest.fixture
def library_on(serve, keep_alive) -> Iterator[Any]:
    """``library_on(responder, **import arguments)``: the library on a scripted daemon."""
    libraries: list[SockerlessLibrary] = []

    def make(responder: Any, **arguments: Any) -> tuple[SockerlessLibrary, Any]:
        server = serve(keep_alive(responder))
        settings = {
            "connect_timeout": timedelta(seconds=1),
            "read_timeout": timedelta(seconds=2),
            "api_version": "1.44",
            **arguments,
        }
        library = SockerlessLibrary(host=f"unix://{server.path}", **settings)
        libraries.append(library)
        return library, server

    yield make
    for library in libraries:
        library.close()


def creates(server: Any) -> list[str]:
    return [line for line in server.request_lines if line.startswith(CREATE)]


def test_a_create_beyond_the_budget_fails_before_the_daemon_is_asked(library_on) -> None:
    library, server = library_on(docker(), task_budget=2)
    library.create_container("alpine:latest", "true", name="one")
    library.create_container("alpine:latest", "true", name="two")
    sent = list(server.request_lines)

    with pytest.raises(TaskBudgetExhausted) as raised:
        library.create_container("alpine:latest", "true", name="three")

    assert server.request_lines == sent  # not a single request for the third create
    assert len(creates(server)) == 2
    run_id = library.get_run_id()
    assert str(raised.value) == (
        f"Fargate task budget exhausted: this run (budget id {run_id}) already created 2 "
        "containers of its budget of 2; raise FARGATE_TASK_BUDGET (or "
        "SOCKERLESS_KIT_TASK_BUDGET) if the suite really needs more (nothing was sent to the "
        "daemon)"
    )
    budget = library.get_fargate_task_budget()
    assert {k: budget[k] for k in ("budget", "used", "remaining", "denied", "shared_by")} == {
        "budget": 2,
        "used": 2,
        "remaining": 0,
        "denied": 1,
        "shared_by": "process",
    }
    assert budget["budget_id"] == run_id


def test_the_environment_sets_the_budget_when_the_import_does_not(
    library_on, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCKERLESS_KIT_TASK_BUDGET", "1")
    library, server = library_on(docker())
    library.create_container("alpine:latest", "true")
    with pytest.raises(TaskBudgetExhausted, match="of its budget of 1;"):
        library.create_container("alpine:latest", "true")
    assert len(creates(server)) == 1
    assert library.get_fargate_task_budget()["source"] == "SOCKERLESS_KIT_TASK_BUDGET"

    overridden, server = library_on(docker(), task_budget="3")  # the import argument wins
    for _ in range(3):
        overridden.create_container("alpine:latest", "true")
    with pytest.raises(TaskBudgetExhausted, match="of its budget of 3;"):
        overridden.create_container("alpine:latest", "true")
    assert len(creates(server)) == 3


def test_without_a_budget_nothing_is_counted_or_written(library_on, environment: Path) -> None:
    library, server = library_on(docker())
    for _ in range(7):
        library.create_container("alpine:latest", "true")
    assert len(creates(server)) == 7
    assert library.get_fargate_task_budget()["budget"] is None
    assert not list(environment.glob("*.budget"))


def test_a_budget_of_zero_allows_no_create_and_sends_nothing(library_on) -> None:
    library, server = library_on(docker(), task_budget=0)
    with pytest.raises(
        TaskBudgetExhausted, match="already created 0 containers of its budget of 0"
    ):
        library.create_container("alpine:latest", "true")
    assert server.request_lines == []


def test_beyond_the_budget_not_even_the_embedded_simulator_is_started() -> None:
    library = SockerlessLibrary(task_budget="0")  # no host: the embedded simulator
    try:
        with pytest.raises(TaskBudgetExhausted):
            library.create_container("alpine:latest", "true")
        assert library._context.connected_target() is None
    finally:
        library.close()


@pytest.mark.parametrize("status", [409, 500])
def test_a_create_the_daemon_refused_gives_its_slot_back(library_on, status: int) -> None:
    refused = {"taken": (status, {"message": "Conflict. The container name is in use"})}
    library, server = library_on(docker(answers=refused), task_budget=1)
    with pytest.raises(DaemonResponseError):
        library.create_container("alpine:latest", "true", name="taken")
    # An expected refusal returns no ID: nothing to start, the slot comes back too.
    assert (
        library.create_container("alpine:latest", "true", name="taken", expected_status=status)
        is None
    )
    assert library.get_fargate_task_budget()["used"] == 0
    library.create_container("alpine:latest", "true", name="fits")
    with pytest.raises(TaskBudgetExhausted):
        library.create_container("alpine:latest", "true", name="over")
    budget = library.get_fargate_task_budget()
    assert (budget["used"], budget["given_back"], budget["denied"]) == (1, 2, 1)
    assert len(creates(server)) == 3


def test_a_create_whose_answer_was_lost_keeps_its_slot(library_on) -> None:
    # The end of the run looks for the lost create's container until its read deadline: short.
    read_timeout = timedelta(seconds=0.5)
    library, server = library_on(docker(drop={"lost"}), task_budget=1, read_timeout=read_timeout)
    with pytest.raises(SockerlessError):
        library.create_container("alpine:latest", "true", name="lost")
    # The daemon may have made the container: it stays counted.
    with pytest.raises(TaskBudgetExhausted):
        library.create_container("alpine:latest", "true", name="next")
    assert [line.split("?")[1] for line in creates(server)] == ["name=lost HTTP/1.1"]


@pytest.mark.parametrize("value", ["abc", "-1", "2.5", -3])
def test_an_invalid_budget_fails_the_import_with_a_clear_message(value: object) -> None:
    with pytest.raises(InvalidTaskBudget) as raised:
        SockerlessLibrary(task_budget=value)  # type: ignore[arg-type]
    assert str(raised.value) == (
        f"Invalid Fargate task budget {value!r} from the task_budget import argument "
        "(in the suites FARGATE_TASK_BUDGET, which defaults to SOCKERLESS_KIT_TASK_BUDGET): use "
        "a whole number of tasks (0 or more), 'auto' (what the selected tests declare) or "
        "'unlimited'"
    )


def test_an_invalid_budget_from_the_environment_fails_the_create_unsent(
    library_on, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCKERLESS_KIT_TASK_BUDGET", "lots")
    library, server = library_on(docker())
    with pytest.raises(InvalidTaskBudget, match=r"'lots' from SOCKERLESS_KIT_TASK_BUDGET"):
        library.create_container("alpine:latest", "true")
    assert creates(server) == []


def test_processes_sharing_a_budget_id_share_the_budget(
    library_on, monkeypatch: pytest.MonkeyPatch, environment: Path
) -> None:
    monkeypatch.setenv("SOCKERLESS_KIT_BUDGET_ID", "ci-run-7")
    first, _ = library_on(docker(), task_budget=3)
    second, _ = library_on(docker(), task_budget=3)
    first.create_container("alpine:latest", "true")
    second.create_container("alpine:latest", "true")
    first.create_container("alpine:latest", "true")
    with pytest.raises(TaskBudgetExhausted) as raised:
        second.create_container("alpine:latest", "true")
    assert "(budget id ci-run-7, shared through SOCKERLESS_KIT_BUDGET_ID)" in str(raised.value)
    assert first.get_run_id() != second.get_run_id()  # the run id stays per process
    lines = [
        json.loads(line) for line in (environment / "ci-run-7.budget").read_text().splitlines()
    ]
    assert [line["event"] for line in lines] == ["reserved"] * 3 + ["denied"]
