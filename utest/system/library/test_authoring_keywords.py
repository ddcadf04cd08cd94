"""What the authoring keywords send, and what they refuse to send, request by request.

The daemon is the scripted unix-socket server of ``conftest.py``, answering creates, inspects and
kills from a table, so every request the library sent (and every one it did not) is visible.
The target is a real one (``host``) without AWS credentials: cleanup stays on the daemon.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter
from robot.libdocpkg import LibraryDocumentation

from SockerlessLibrary import SockerlessLibrary
from SockerlessLibrary.budget import TaskBudgetExhausted
from SockerlessLibrary.create_options import ConflictingOption
from SockerlessLibrary.errors import ConfigurationError
from SockerlessLibrary.run.session_guard import CreateGuardAdapter

pytestmark = pytest.mark.timeout(30)

CREATE = "POST /v1.44/containers/create"


@pytest.fixture(autouse=True)
def journal(isolated_journal: Path) -> Path:
    """A journal in ``tmp_path``, no AWS credentials, no target or budget from the outside."""
    return isolated_journal


INSPECT_ANSWERS: dict[str, tuple[int, Any]] = {
    "gone": (404, {"message": "No such container: gone"}),
    "there": (200, {"Id": "f" * 64, "State": {"Status": "running", "Running": True}}),
    "broken": (404, {"message": "page not found"}),
}


def respond(connection: Any, request: Any) -> None:
    if request.path.endswith("/_ping"):
        connection.respond(200, "OK", b"OK", content_type="text/plain")
    elif request.path.endswith("/containers/create"):
        connection.respond_json(201, "Created", {"Id": secrets.token_hex(32), "Warnings": []})
    elif request.path.endswith("/json") and "/containers/" in request.path:
        name = request.path.split("/containers/")[1].split("/")[0]
        status, payload = INSPECT_ANSWERS.get(name, (200, []))
        connection.respond_json(status, "Answer", payload)
    else:
        connection.respond(204, "No Content")


@pytest.fixture
def library(serve: Any, keep_alive: Any) -> Iterator[tuple[SockerlessLibrary, Any]]:
    server = serve(keep_alive(respond))
    lib = SockerlessLibrary(
        host=f"unix://{server.path}",
        connect_timeout=timedelta(seconds=1),
        read_timeout=timedelta(seconds=2),
        api_version="1.44",
        task_budget=2,
    )
    yield lib, server
    lib.close()


def sent_creates(server: Any) -> list[dict[str, Any]]:
    return [r.json() for r in server.requests if r.request_line.startswith(CREATE)]


def test_create_container_sends_each_option_in_its_docker_field(library: Any) -> None:
    lib, server = library
    lib.create_container(
        "alpine:latest",
        "pwd",
        env={"FOO": "bar"},
        working_dir="/tmp",
        user="nobody",
        entrypoint=["/bin/sh", "-c"],
        labels={"team": "qa"},
        stop_signal="SIGINT",
        stop_timeout=5,
        tty=False,
        open_stdin=True,
        host_config={"Memory": 536870912},
        config={"Hostname": "qa-box"},
    )
    (body,) = sent_creates(server)
    assert body["Cmd"] == ["pwd"]
    assert body["Env"] == ["FOO=bar"]
    assert (body["WorkingDir"], body["User"], body["StopSignal"]) == ("/tmp", "nobody", "SIGINT")
    assert (body["StopTimeout"], body["OpenStdin"], body["Tty"]) == (5, True, False)
    assert body["Entrypoint"] == ["/bin/sh", "-c"]
    assert body["HostConfig"] == {"Memory": 536870912}
    assert body["Hostname"] == "qa-box"
    assert body["Labels"]["team"] == "qa"
    assert body["Labels"]["sockerless-kit.run-id"] == lib.get_run_id()


def test_a_conflicting_or_bad_option_fails_before_anything_is_sent_or_counted(
    library: Any,
) -> None:
    lib, server = library
    with pytest.raises(ConflictingOption):
        lib.create_container("alpine:latest", env={"A": "1"}, config={"Env": ["B=2"]})
    with pytest.raises(ConfigurationError, match="env value of B is None"):
        lib.create_container("alpine:latest", env={"B": None})
    with pytest.raises(ConfigurationError, match="env value of B is None"):
        lib.create_exec("c0ffee", "env", env={"B": None})
    with pytest.raises(ConfigurationError, match="env items must read 'KEY=value'"):
        lib.create_exec("c0ffee", "env", env=["B"])  # refused by create, so by exec too
    with pytest.raises(ConfigurationError, match="stop_timeout must be 0 or more"):
        lib.stop_container("c0ffee", stop_timeout=-5)
    assert server.request_lines == []  # not even the version negotiation
    assert lib.get_fargate_task_budget()["used"] == 0  # nothing counted either


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda lib: lib.start_container("c0ffee", timeout=timedelta(seconds=-5)), "timeout"),
        (lambda lib: lib.stop_container("c0ffee", timeout=timedelta(0)), "timeout"),
        (lambda lib: lib.get_container_logs("c0ffee", timeout=timedelta(seconds=-1)), "timeout"),
        (lambda lib: lib.wait_until_exec_finishes("e", interval=timedelta(0)), "interval"),
        (
            lambda lib: lib.container_should_have_exited_with_code(
                "c0ffee", 0, aws_timeout=timedelta(seconds=-1)
            ),
            "aws_timeout",
        ),
        (
            lambda lib: lib.connect_to_sockerless(read_timeout=timedelta(seconds=-1)),
            "read_timeout",
        ),
    ],
)
def test_a_timeout_of_zero_or_less_is_refused_before_anything_is_sent(
    library: Any, call: Any, argument: str
) -> None:
    lib, server = library
    with pytest.raises(ValueError, match=rf"^{argument} must be more than 0 seconds, got "):
        call(lib)
    assert server.request_lines == []


def test_an_import_timeout_of_zero_or_less_fails_the_import() -> None:
    with pytest.raises(ValueError, match="stop_timeout must be more than 0 seconds, got -5"):
        SockerlessLibrary(stop_timeout=timedelta(seconds=-5))


def test_kill_sends_sigkill_by_name_unless_told_otherwise(library: Any) -> None:
    lib, server = library
    lib.kill_container("c0ffee")
    lib.kill_container("c0ffee", signal="SIGTERM")
    kills = [line for line in server.request_lines if "/kill" in line]
    assert kills == [
        "POST /v1.44/containers/c0ffee/kill?signal=SIGKILL HTTP/1.1",
        "POST /v1.44/containers/c0ffee/kill?signal=SIGTERM HTTP/1.1",
    ]


def test_container_should_not_exist_needs_the_daemons_no_such_container(library: Any) -> None:
    lib, _ = library
    lib.container_should_not_exist("gone")
    with pytest.raises(AssertionError, match=r"Container there exists: State \{\"Status\""):
        lib.container_should_not_exist("there")
    with pytest.raises(AssertionError, match="neither the container nor 'No such container'"):
        lib.container_should_not_exist("broken")  # a 404 about something else proves nothing


def test_created_containers_come_in_creation_order_across_scopes(library: Any) -> None:
    lib, _ = library
    ids = [secrets.token_hex(32) for _ in range(3)]
    # A suite setup, one of its tests, then the suite's teardown: three creates, two scopes.
    for container_id, scope in zip(ids, ("suite:S", "test:S.T", "suite:S"), strict=True):
        lib._context.remember_created(container_id, tty=False, scope=scope)
    assert lib.get_created_containers(scope="all") == ids


def test_a_cleanup_without_aws_credentials_says_why_as_the_sweeper_does(library: Any) -> None:
    lib, _ = library
    container_id = lib.create_container("alpine:latest", "true")
    with pytest.raises(AssertionError) as failure:
        lib.clean_up_container(container_id)
    # The daemon side is done; the AWS side names what is missing, not a vague "no AWS access".
    assert "daemon removed (force)" in str(failure.value)
    assert "AWS side not cleaned: no AWS credentials in the environment" in str(failure.value)


# --- the raw session's guard ------------------------------------------------------------------


class Recorder(BaseAdapter):
    """The adapter behind the guard: records what reaches it, answers from a script."""

    def __init__(self, status: int = 201, answer: Any = None) -> None:
        super().__init__()
        self.sent: list[PreparedRequest] = []
        self.status = status
        self.answer = {"Id": "a" * 64} if answer is None else answer

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        self.sent.append(request)
        response = Response()
        response.status_code = self.status
        response._content = json.dumps(self.answer).encode()
        return response

    def close(self) -> None:
        pass


def prepared(url: str, body: Any = None, *, data: bytes | None = None) -> PreparedRequest:
    request = PreparedRequest()
    request.prepare(method="POST", url=url, json=body, data=data)
    return request


def test_a_raw_create_gets_the_run_labels_counts_and_is_registered(library: Any) -> None:
    lib, _ = library
    inner = Recorder()
    guard = CreateGuardAdapter(inner, lib._context)
    url = "http://sockerless/v1.44/containers/create?name=raw"
    guard.send(prepared(url, {"Image": "alpine:latest", "Labels": {"team": "qa"}}))
    (sent,) = inner.sent
    body = json.loads(sent.body)
    assert body["Labels"] == {
        "team": "qa",
        "sockerless-kit.run-id": lib.get_run_id(),
        "sockerless-kit.project": "sockerless-ecs-acceptance",
    }
    assert sent.headers["Content-Length"] == str(len(sent.body))
    assert lib.get_fargate_task_budget()["used"] == 1
    assert lib._context.registry.is_pending("a" * 64)  # cleaned at the end of its scope
    journal = lib._context.journal.records()
    assert [(r["event"], r["container_id"]) for r in journal] == [("created", "a" * 64)]
    other = prepared("http://sockerless/v1.44/containers/json")
    guard.send(other)
    assert inner.sent[-1] is other and other.body is None  # other requests pass untouched


def test_a_raw_create_is_on_the_timeline_like_a_keyword_create(library: Any) -> None:
    lib, _ = library
    created = "a" * 64
    CreateGuardAdapter(Recorder(), lib._context).send(
        prepared("http://sockerless/v1.44/containers/create", {"Image": "alpine", "Cmd": ["id"]})
    )
    timeline = lib.get_container_timeline(created)
    (create,) = timeline["docker_calls"]
    assert (create["call"], create["status"]) == ("create", 201)
    assert create["sent"] <= create["answered"]
    assert timeline["command"] == "id"


def test_a_raw_create_beyond_the_budget_is_never_sent(library: Any) -> None:
    lib, _ = library
    inner = Recorder()
    guard = CreateGuardAdapter(inner, lib._context)
    lib.create_container("alpine:latest", "true")
    guard.send(prepared("http://sockerless/containers/create", {"Image": "alpine"}))
    with pytest.raises(TaskBudgetExhausted, match="of its budget of 2"):
        guard.send(prepared("http://sockerless/containers/create", {"Image": "alpine"}))
    assert len(inner.sent) == 1


def test_a_raw_create_the_daemon_refused_gives_its_slot_back(library: Any) -> None:
    lib, _ = library
    inner = Recorder(status=409, answer={"message": "Conflict"})
    answer = CreateGuardAdapter(inner, lib._context).send(
        prepared("http://sockerless/containers/create", {"Image": "alpine"})
    )
    assert answer.status_code == 409  # the test sees the daemon's answer, as sent
    budget = lib.get_fargate_task_budget()
    assert (budget["used"], budget["given_back"]) == (0, 1)


def test_a_raw_create_whose_body_is_no_json_object_is_refused_unsent(library: Any) -> None:
    lib, _ = library
    inner = Recorder()
    guard = CreateGuardAdapter(inner, lib._context)
    for bad in (b"Image=alpine", b'["alpine"]'):
        with pytest.raises(ConfigurationError, match="needs a JSON object body"):
            guard.send(prepared("http://sockerless/containers/create", data=bad))
    assert inner.sent == []
    assert lib.get_fargate_task_budget()["used"] == 0


# --- the auto budget against a real target, as robot runs it ------------------------------------

BUDGET_SUITE = """\
*** Settings ***
Library    SockerlessLibrary    read_timeout=5s

*** Test Cases ***
Declares One And Creates Two
    [Tags]    fargate-tasks:1
    Create Container    alpine:latest    true
    Create Container    alpine:latest    true

Declares One
    [Tags]    fargate-tasks:1
    Create Container    alpine:latest    true
"""


def test_against_a_real_target_the_selected_tests_declarations_are_enforced(
    serve: Any, keep_alive: Any, tmp_path: Path, journal: Path
) -> None:
    server = serve(keep_alive(respond))
    suite = tmp_path / "budget.robot"
    suite.write_text(BUDGET_SUITE)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # isolated_journal cleaned it
    env.update(SOCKERLESS_HOST=f"unix://{server.path}", SOCKERLESS_KIT_JOURNAL_DIR=str(journal))
    subprocess.run(
        [str(Path(sys.executable).parent / "robot"), "--outputdir", str(tmp_path), str(suite)],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    root = ET.parse(tmp_path / "output.xml").getroot()
    outcome = {t.get("name"): t.find("status") for t in root.iter("test")}
    first, second = outcome["Declares One And Creates Two"], outcome["Declares One"]
    assert first is not None and second is not None
    assert first.get("status") == "PASS"  # the run's sum (2) had room for its second create
    assert second.get("status") == "FAIL"
    assert (second.text or "").startswith(
        "Fargate task budget exhausted: this run (budget id "
    ) and "already created 2 containers, all that its selected tests declare (2;" in (
        second.text or ""
    )
    assert len([line for line in server.request_lines if line.startswith(CREATE)]) == 2
    warned = [m.text or "" for m in root.iter("msg") if m.get("level") == "WARN"]
    assert any("'Budget.Declares One And Creates Two' created 2 containers" in w for w in warned)


# --- proofs refuse to prove nothing -------------------------------------------------------------

PROOFS = [kw for kw in LibraryDocumentation("SockerlessLibrary").keywords if "Proof" in kw.tags]
MADE_UP = "ab" * 32  # a valid-looking 64-hex ID no run created
REQUIRED_VALUES = {"exit_code": 0, "address": "10.0.0.7", "logs": None}


def required_arguments(keyword: Any, container_id: str) -> list[Any]:
    names = [n for n in keyword.args.positional_or_named if n not in keyword.args.defaults]
    assert names[0] == "container_id", keyword.name
    return [container_id, *(REQUIRED_VALUES[name] for name in names[1:])]


def test_the_proofs_are_the_ones_the_docs_list() -> None:
    assert sorted(kw.name for kw in PROOFS) == [
        "Container Should Have Exited With Code",
        "Container Should Leave No AWS Resources",
        "Container Should Run As A Fargate Task",
        "Fargate Task Should Be Stopped",
        "Fargate Task Should Have Failed To Start",
        "Fargate Task Should Use The Configured Network",
        "Log Lines Should Be CloudWatch Events",
        "Reported IP Should Be The Task ENI Address",
        "Task Definition Should Be Deregistered",
    ]


@pytest.mark.parametrize("keyword", PROOFS, ids=lambda kw: kw.name)
def test_a_proof_about_a_container_the_run_never_created_fails_at_once(
    library: Any, keyword: Any
) -> None:
    lib, server = library
    lib.create_container("alpine:latest", "true")  # the run created one: just not this one
    sent = list(server.request_lines)
    with pytest.raises(AssertionError) as failure:
        lib.run_keyword(keyword.name, required_arguments(keyword, MADE_UP), {})
    assert str(failure.value) == (
        f"{keyword.name} proves what happened to a container this run created, but "
        f"'{MADE_UP}' is none of the 1 it created: create it with `Create Container` (or a "
        "resource keyword built on it, or a create on the kit's session) in this run, so that "
        "there is something to prove"
    )
    assert server.request_lines == sent  # nothing asked of the daemon (nor of AWS)


def test_a_short_id_of_a_container_the_run_created_is_told_the_full_one(library: Any) -> None:
    lib, _ = library
    created = lib.create_container("alpine:latest", "true")
    with pytest.raises(AssertionError, match=rf"\(give the full ID: {created}\)$"):
        lib.container_should_leave_no_aws_resources(created[:12])


EVIDENCE_NEEDED = [
    ("Fargate Task Should Use The Configured Network", []),
    ("Reported IP Should Be The Task ENI Address", ["10.0.0.7"]),
    ("Fargate Task Should Be Stopped", []),
    ("Task Definition Should Be Deregistered", []),
    ("Log Lines Should Be CloudWatch Events", [None]),
]


@pytest.mark.parametrize(("name", "rest"), EVIDENCE_NEEDED, ids=[n for n, _ in EVIDENCE_NEEDED])
def test_a_proof_after_start_needs_the_task_proven_at_start(
    library: Any, name: str, rest: list[Any]
) -> None:
    lib, server = library
    created = lib.create_container("alpine:latest", "true")
    sent = list(server.request_lines)
    with pytest.raises(AssertionError) as failure:
        lib.run_keyword(name, [created, *rest], {})
    assert str(failure.value) == (
        f"{name} compares against the ECS task proven after start, and no task of container "
        f"{created[:12]} was proven yet: run `Container Should Run As A Fargate Task` after "
        "starting it (`Start Fargate Container` does)"
    )
    assert server.request_lines == sent
