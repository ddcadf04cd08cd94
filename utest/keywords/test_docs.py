"""Every keyword is documented with an example, in the library and in every resource file; the
library and import have docs too; deprecated keywords say so (Robot then warns when one runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from robot.libdocpkg import LibraryDocumentation

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = LibraryDocumentation("SockerlessLibrary")
KEYWORDS = {kw.name: kw for kw in LIBRARY.keywords}
RESOURCE_FILES = sorted((ROOT / "resources").glob("*.resource"))
RESOURCES = {path.name: LibraryDocumentation(str(path)) for path in RESOURCE_FILES}
RESOURCE_KEYWORDS = {
    f"{name}: {kw.name}": kw for name, doc in RESOURCES.items() for kw in doc.keywords
}
# Old names kept for one release; each doc starts with *DEPRECATED* and names its successor.
DEPRECATED = {
    "Wait For Container": "Wait Until Container Is Not Running",
    "Wait Until Container Status Is": "Wait Until Container Is Not Running",
    "Task Definition Should Be Inactive": "Task Definition Should Be Deregistered",
    "containers.resource: Wait Until Container Exits": "Container Should Have Exited With Code",
    "cleanup.resource: Remember For Cleanup": "Get Created Containers",
}

CONTRACT = {
    # name: argument names, in order (the suites depend on them)
    "Connect To Sockerless": ["host", "connect_timeout", "read_timeout", "api_version"],
    "Get Target Info": [],
    "Skip If AWS Credentials Are Missing": ["required"],
    "Get Run Id": [],
    "Generate Container Name": ["prefix"],
    "Daemon Should Respond To Ping": [],
    "Disconnect From Sockerless": [],
    "Set Target Metadata": [],
    "Create Container": [
        "image",
        "command",
        "entrypoint",
        "env",
        "working_dir",
        "user",
        "labels",
        "stop_signal",
        "stop_timeout",
        "tty",
        "open_stdin",
        "config",
        "host_config",
        "name",
        "expected_status",
        "unknown_options",
    ],
    "Container Should Not Exist": ["container_id"],
    "Container Should Have Exited With Code": [
        "container_id",
        "exit_code",
        "timeout",
        "aws_timeout",
    ],
    "Run Process In Container": [
        "container_id",
        "command",
        "env",
        "working_dir",
        "user",
        "stdin",
        "timeout",
        "unknown_options",
    ],
    "Get Container Log Lines": [
        "container_id",
        "stdout",
        "stderr",
        "timestamps",
        "tail",
        "since",
        "until",
        "timeout",
    ],
    "Get Created Containers": ["scope"],
    "Start Container": ["container_id", "timeout", "expected_status"],
    "Inspect Container": ["container_id", "expected_status"],
    "List Containers": ["all", "filters"],
    "Stop Container": ["container_id", "t", "timeout", "expected_status"],
    "Kill Container": ["container_id", "signal", "expected_status"],
    "Wait For Container": ["container_id", "condition", "timeout"],
    "Wait Until Container Is Not Running": ["container_id", "timeout"],
    "Remove Container": ["container_id", "force", "expected_status"],
    "Get Container Status": ["container_id"],
    "Wait Until Container Status Is": ["container_id", "status", "timeout", "interval"],
    "Get Container IP Address": ["container"],
    "Container Should Be Listed": ["container_id", "all", "filters"],
    "Container Should Not Be Listed": ["container_id", "all", "filters"],
    "Container Id Should Be Valid": ["container_id"],
    "Create Exec": [
        "container_id",
        "command",
        "env",
        "working_dir",
        "tty",
        "expected_status",
        "attach_stdin",
        "user",
        "unknown_options",
    ],
    "Start Exec": ["exec_id", "stdin", "tty", "timeout"],
    "Inspect Exec": ["exec_id"],
    "Wait Until Exec Finishes": ["exec_id", "timeout", "interval"],
    "Exec Exit Code Should Be": ["exec_id", "expected"],
    "Get Container Logs": [
        "container_id",
        "stdout",
        "stderr",
        "timestamps",
        "tail",
        "since",
        "until",
        "follow",
        "timeout",
    ],
    "Wait Until Logs Contain Line": ["container_id", "line", "timeout", "stream", "timestamps"],
    "Output Should Contain Line": ["result", "line", "stream"],
    "Output Should Not Contain Line": ["result", "line", "stream"],
    "Get Output Lines": ["result", "stream"],
    "Stream Should Be Multiplexed": ["result"],
    "Frames Should Use Stream Type": ["result", "stream_type"],
    "Log Lines Should Have Timestamps": ["result"],
    "Attach To Container Over WebSocket": ["container_id", "send", "timeout"],
    "Create Sockerless Session": ["alias"],
    "Task Definition Should Be Inactive": ["container_id"],
    "Task Definition Should Be Active": ["container_id"],
    "Container Tasks Should Be Stopped": ["container_id"],
    "Log Streams Should Not Exist": ["container_id"],
    "Container Should Leave No AWS Resources": ["container_id"],
    "Clean Up Container": ["container_id"],
    "Clean Up Registered Resources": ["scope"],
    "Sweep Run Leftovers": ["run_id"],
    "Get Fargate Task Usage": [],
    "Set Fargate Usage Metadata": [],
    "Get Daemon Request Count": [],
    "Get Fargate Task Budget": [],
}


def test_library_intro_has_the_promised_sections() -> None:
    for section in (
        "%TOC%",
        "= Targets =",
        "= Timeouts =",
        "= Expected status =",
        "= Streams and whole-line matching =",
        "= Proof on AWS =",
        "= Preflight =",
        "= Cleanup =",
        "= Examples =",
    ):
        assert section in LIBRARY.doc, section
    assert LIBRARY.version
    assert LIBRARY.scope == "GLOBAL"


def test_import_arguments_are_documented() -> None:
    (init,) = LIBRARY.inits
    names = [argument.name for argument in init.args]
    assert names == [
        "host",
        "connect_timeout",
        "read_timeout",
        "start_timeout",
        "stop_timeout",
        "exec_timeout",
        "logs_timeout",
        "aws_timeout",
        "preflight_timeout",
        "simulator_profile",
        "simulator_time_scale",
        "simulator_quirks",
        "api_version",
        "task_budget",
    ]
    assert "Example" in init.doc
    assert "api_version" in init.doc and "API version" in LIBRARY.doc


@pytest.mark.parametrize("name", sorted(KEYWORDS))
def test_every_keyword_has_documentation_and_an_example(name: str) -> None:
    doc = KEYWORDS[name].doc
    assert doc.strip(), f"{name} has no documentation"
    assert "Example" in doc, f"{name} has no example"
    assert len(KEYWORDS[name].short_doc) > 15, f"{name}: the first line is not a useful summary"


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_contract_keywords_exist_with_their_arguments(name: str) -> None:
    assert name in KEYWORDS, f"missing keyword {name}"
    arguments = [argument.name for argument in KEYWORDS[name].args]
    assert arguments[: len(CONTRACT[name])] == CONTRACT[name]


def test_keywords_returning_objects_say_what_suites_can_use() -> None:
    for name in ("Get Container Logs", "Start Exec"):
        doc = KEYWORDS[name].doc
        assert "output" in doc and "frames" in doc and "lines(stream)" in doc, name
    assert "log_lines" in KEYWORDS["Get Container Logs"].doc


@pytest.mark.parametrize("name", sorted(RESOURCE_KEYWORDS))
def test_every_resource_keyword_has_documentation_and_an_example(name: str) -> None:
    keyword = RESOURCE_KEYWORDS[name]
    assert keyword.doc.strip(), f"{name} has no documentation"
    assert "Example" in keyword.doc, f"{name} has no example"
    assert len(keyword.short_doc) > 15, f"{name}: the first line is not a useful summary"


@pytest.mark.parametrize("path", RESOURCE_FILES, ids=lambda path: path.name)
def test_every_resource_file_has_documentation(path: Path) -> None:
    assert RESOURCES[path.name].doc.strip(), f"{path.name} has no Documentation setting"


@pytest.mark.parametrize("name", sorted(DEPRECATED))
def test_deprecated_keywords_say_so_and_name_their_successor(name: str) -> None:
    keyword = RESOURCE_KEYWORDS.get(name) or KEYWORDS[name]
    assert keyword.doc.startswith("*DEPRECATED*"), name  # Robot warns when one runs
    assert f"`{DEPRECATED[name]}`" in keyword.doc.split("\n\n")[0], name
    assert keyword.deprecated


def test_no_other_keyword_is_deprecated() -> None:
    deprecated = {name for name, kw in KEYWORDS.items() if kw.deprecated} | {
        name for name, kw in RESOURCE_KEYWORDS.items() if kw.deprecated
    }
    assert deprecated == set(DEPRECATED)


def test_kill_container_says_sigkill_is_its_default_not_a_thing_to_pass() -> None:
    kill = KEYWORDS["Kill Container"]
    (signal,) = [argument for argument in kill.args if argument.name == "signal"]
    assert signal.default == "SIGKILL"
    assert "is SIGKILL unless given (Docker's own default)" in kill.doc
    # The old text told users to pass it to get 137, as if the default were something else.
    assert "Pass ``signal=SIGKILL`` to get exit code 137" not in kill.doc
