"""Every keyword is documented with an example, in the library and in every resource file; the
library and import have docs too; the keyword surface is the one written down here, with nothing
deprecated kept and no removed name back."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from robot.libdocpkg import LibraryDocumentation

ROOT = Path(__file__).resolve().parents[3]
LIBRARY = LibraryDocumentation("SockerlessLibrary")
KEYWORDS = {kw.name: kw for kw in LIBRARY.keywords}
RESOURCE_FILES = sorted((ROOT / "resources").glob("*.resource"))
RESOURCES = {path.name: LibraryDocumentation(str(path)) for path in RESOURCE_FILES}
# A resource file's private keywords (``robot:private``) are its own helpers, not the surface
# (libdoc's HTML leaves them out); they are documented all the same.
ALL_RESOURCE_KEYWORDS = {
    f"{name}: {kw.name}": kw for name, doc in RESOURCES.items() for kw in doc.keywords
}
RESOURCE_KEYWORDS = {name: kw for name, kw in ALL_RESOURCE_KEYWORDS.items() if not kw.private}
# The conformance suite's matrix writer: a library of its own (conformance.resource imports it).
MATRIX_LIBRARY = LibraryDocumentation("SockerlessLibrary.keywords.conformance.ConformanceMatrix")
MATRIX_KEYWORDS = {f"ConformanceMatrix: {kw.name}": kw for kw in MATRIX_LIBRARY.keywords}
# The whole keyword surface, library and resource files: name -> arguments in order, with "*"
# before named-only ones (a "*command" takes positional values too, "**options" any option).
# Suites and the conformance probes are written against it; a change here is a change to
# CHANGELOG.md's list.
SURFACE = {
    "Attach To Container Over WebSocket": ["container_id", "*", "send", "timeout"],
    "Clean Up Container": ["container_id"],
    "Clean Up Registered Resources": ["*", "scope"],
    "Connect To Sockerless": ["host", "*", "connect_timeout", "read_timeout", "api_version"],
    "Container Id Should Be Valid": ["container_id"],
    "Container Should Be Listed": ["container_id", "*", "all", "filters"],
    "Container Should Have Exited With Code": [
        "container_id",
        "exit_code",
        "*",
        "timeout",
        "aws_timeout",
    ],
    "Container Should Leave No AWS Resources": ["container_id"],
    "Container Should Not Be Listed": ["container_id", "*", "all", "filters"],
    "Container Should Not Exist": ["container_id"],
    "Container Should Run As A Fargate Task": ["container_id", "*", "timeout"],
    "Create Container": [
        "image",
        "*command",
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
    ],
    "Create Exec": [
        "container_id",
        "*command",
        "env",
        "working_dir",
        "tty",
        "expected_status",
        "attach_stdin",
        "user",
    ],
    "Create Sockerless Session": ["alias"],
    "Daemon Should Respond To Ping": [],
    "Disconnect From Sockerless": [],
    "Exec Should Have Exited With Code": ["exec_id", "exit_code"],
    "Fargate Task Should Be Stopped": ["container_id", "*", "exit_code", "timeout"],
    "Fargate Task Should Have Failed To Start": ["container_id", "*", "reason", "timeout"],
    "Fargate Task Should Use The Configured Network": ["container_id"],
    "Frames Should Use Stream Type": ["result", "stream_type"],
    "Generate Container Name": ["prefix"],
    "Get Container IP Address": ["container"],
    "Get Container Log Lines": [
        "container_id",
        "*",
        "stdout",
        "stderr",
        "timestamps",
        "tail",
        "since",
        "until",
        "timeout",
    ],
    "Get Container Logs": [
        "container_id",
        "*",
        "stdout",
        "stderr",
        "timestamps",
        "tail",
        "since",
        "until",
        "follow",
        "timeout",
    ],
    "Get Container Status": ["container_id"],
    "Get Container Timeline": ["container_id"],
    "Get Created Containers": ["*", "scope"],
    "Get Daemon Request Count": [],
    "Get Fargate Task Budget": [],
    "Get Fargate Task Usage": [],
    "Get Output Lines": ["result", "*", "stream"],
    "Get Run Id": [],
    "Get Target Info": [],
    "Inspect Container": ["container_id", "*", "expected_status"],
    "Inspect Exec": ["exec_id"],
    "Kill Container": ["container_id", "*", "signal", "expected_status"],
    "List Containers": ["*", "all", "filters"],
    "Log Lines Should Be CloudWatch Events": ["container_id", "logs", "*", "timeout"],
    "Log Lines Should Have Timestamps": ["result"],
    "Output Should Contain Line": ["result", "line", "*", "stream"],
    "Output Should Not Contain Line": ["result", "line", "*", "stream"],
    "Remove Container": ["container_id", "*", "force", "expected_status"],
    "Reported IP Should Be The Task ENI Address": ["container_id", "address"],
    "Run Process In Container": [
        "container_id",
        "*command",
        "env",
        "working_dir",
        "user",
        "stdin",
        "timeout",
    ],
    "Set Fargate Usage Metadata": [],
    "Set Target Metadata": [],
    "Skip If AWS Credentials Are Missing": ["*", "required"],
    "Start Container": ["container_id", "*", "timeout", "expected_status"],
    "Start Exec": ["exec_id", "*", "stdin", "tty", "timeout"],
    "Stop Container": ["container_id", "*", "stop_timeout", "timeout", "expected_status"],
    "Stream Should Be Multiplexed": ["result"],
    "Sweep Run Leftovers": ["*", "run_id"],
    "Target Should Be Ready": ["*", "timeout"],
    "Task Definition Should Be Deregistered": ["container_id"],
    "Wait Until Container Is Not Running": ["container_id", "*", "timeout"],
    "Wait Until Exec Finishes": ["exec_id", "*", "timeout", "interval"],
    "Wait Until Logs Contain Line": [
        "container_id",
        "line",
        "*",
        "timeout",
        "stream",
        "timestamps",
    ],
    "cleanup.resource: Clean Up And Verify Test Containers": [],
    "containers.resource: Address Should Be Private IPv4": ["address"],
    "containers.resource: Container Should Be Listed With Its Image, State And Name": [
        "container_id",
        "state",
        "*",
        "image",
    ],
    "containers.resource: Container Should Be Running With Private IP": ["container_id"],
    "containers.resource: Containers Should All Carry Label": ["entries", "key", "value"],
    "containers.resource: Create Fargate Container": ["*command", "image", "**options"],
    "containers.resource: Image Reference Should Match": ["actual", "expected"],
    "containers.resource: Label Filter Should Return Only Labelled Containers": [
        "labelled_id",
        "unlabelled_id",
    ],
    "containers.resource: Remove Fargate Container": ["container_id"],
    "containers.resource: Start Fargate Container": ["container_id"],
    "containers.resource: Stop Fargate Container": ["container_id"],
    "ecs_suite.resource: Finish ECS Suite": [],
    "ecs_suite.resource: Prepare ECS Suite": [],
    "exec.resource: Exec Should Return": ["container_id", "line", "*command", "**options"],
    "exec.resource: Exec Should Return Exit Code": [
        "container_id",
        "exit_code",
        "*command",
        "**options",
    ],
    "logs.resource: Every Log Line Should Carry A Timestamp": ["container_id", "line"],
    "logs.resource: Logs Should Be Multiplexed On Stdout": ["logs"],
    "logs.resource: Logs Should Come From The Task's CloudWatch Stream With Timestamps": [
        "container_id",
        "line",
    ],
    "Enter Docker-Only Mode": [],
    "conformance.resource: Prepare Conformance Suite": [],
    "conformance.resource: Finish Conformance Suite": [],
    "conformance.resource: Run Probe Container": ["*command", "**options"],
    "conformance.resource: Start Probe Container": ["container_id"],
    "conformance.resource: Stop Probe Container": ["container_id"],
    "conformance.resource: Create Shared Probe Container": ["*command", "**options"],
    "conformance.resource: Clean Up Shared Probe Containers": [],
    "conformance.resource: Clean Up Probe Containers": [],
    "conformance.resource: Probe Should Have Exited With Code": ["container_id", "exit_code"],
    "conformance.resource: Wait For Probe Output": ["container_id"],
    "conformance.resource: Wait Until Probe Is Ready": ["container_id"],
    "conformance.resource: Log Texts Should Be": ["lines", "*expected"],
    "conformance.resource: Log Line Should Come On": ["lines", "text", "stream"],
    "conformance.resource: Wait Through The API": [
        "container_id",
        "condition",
        "*",
        "expected_status",
    ],
    "ConformanceMatrix: Write Conformance Matrix": [
        "target",
        "mode",
        "*",
        "run_id",
        "daemon",
        "label",
        "baseline",
        "reference",
    ],
}
# Removed before 1.0 (CHANGELOG.md, "Unreleased"): none of these may come back under this name.
REMOVED = (
    "Wait For Container",
    "Wait Until Container Status Is",
    "Task Definition Should Be Inactive",
    "Task Definition Should Be Active",
    "Container Tasks Should Be Stopped",
    "Log Streams Should Not Exist",
    "Exec Exit Code Should Be",
    "Remember For Cleanup",
    "Wait Until Container Exits",
    "Logs Should Contain Line",
    "Logs Should Come From The Task's CloudWatch Stream",
    "Exec Should Exit With Code",
    "Fargate Task Should Run In The Configured Network",
)


def signature(spec: Any) -> list[str]:
    names = list(spec.positional_or_named)
    if spec.var_positional:
        names.append(f"*{spec.var_positional}")
    elif spec.named_only:
        names.append("*")
    names.extend(spec.named_only)
    if spec.var_named:
        names.append(f"**{spec.var_named}")
    return names


def test_library_intro_has_the_promised_sections() -> None:
    for section in (
        "%TOC%",
        "= Targets =",
        "= Timeouts =",
        "= Options =",
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


def test_the_keyword_surface_is_exactly_the_documented_one() -> None:
    found = {
        name: signature(kw.args)
        for name, kw in {**KEYWORDS, **RESOURCE_KEYWORDS, **MATRIX_KEYWORDS}.items()
    }
    assert found == SURFACE
    assert (len(KEYWORDS), len(RESOURCE_KEYWORDS), len(MATRIX_KEYWORDS)) == (59, 32, 1)


def test_removed_keywords_are_gone_and_nothing_is_kept_deprecated() -> None:
    every = {**KEYWORDS, **ALL_RESOURCE_KEYWORDS, **MATRIX_KEYWORDS}
    names = {name.split(": ", 1)[-1] for name in every}
    assert names.isdisjoint(REMOVED)
    assert [name for name, kw in every.items() if kw.deprecated] == []


def test_keywords_returning_objects_say_what_suites_can_use() -> None:
    for name in ("Get Container Logs", "Start Exec"):
        doc = KEYWORDS[name].doc
        assert "output" in doc and "frames" in doc and "lines(stream)" in doc, name
    assert "log_lines" in KEYWORDS["Get Container Logs"].doc


@pytest.mark.parametrize("name", sorted({**ALL_RESOURCE_KEYWORDS, **MATRIX_KEYWORDS}))
def test_every_resource_keyword_has_documentation_and_an_example(name: str) -> None:
    keyword = {**ALL_RESOURCE_KEYWORDS, **MATRIX_KEYWORDS}[name]
    assert keyword.doc.strip(), f"{name} has no documentation"
    assert "Example" in keyword.doc, f"{name} has no example"
    assert len(keyword.short_doc) > 15, f"{name}: the first line is not a useful summary"


@pytest.mark.parametrize("path", RESOURCE_FILES, ids=lambda path: path.name)
def test_every_resource_file_has_documentation(path: Path) -> None:
    assert RESOURCES[path.name].doc.strip(), f"{path.name} has no Documentation setting"


def test_kill_container_says_sigkill_is_its_default_not_a_thing_to_pass() -> None:
    kill = KEYWORDS["Kill Container"]
    (signal,) = [argument for argument in kill.args if argument.name == "signal"]
    assert signal.default == "SIGKILL"
    assert "is SIGKILL unless given (Docker's own default)" in kill.doc
    # The old text told users to pass it to get 137, as if the default were something else.
    assert "Pass ``signal=SIGKILL`` to get exit code 137" not in kill.doc


GUIDE = (ROOT / "docs" / "writing-suites.md").read_text()


def guide_section(title: str) -> str:
    return GUIDE.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_guide_lists_every_keyword_by_purpose_and_no_other() -> None:
    listed = re.findall(
        r"`([^`]+)`", guide_section("Every keyword, by purpose").split("| --- |")[1]
    )
    surface = {name.split(": ", 1)[-1] for name in SURFACE}
    assert sorted(listed) == sorted(surface)  # each once
    counts = f"{len(KEYWORDS)} + {len(RESOURCE_KEYWORDS)} + {len(MATRIX_KEYWORDS)} keywords"
    assert counts in guide_section("Every keyword, by purpose")


def test_the_guide_names_what_replaces_each_removed_keyword() -> None:
    removed = guide_section("Removed names")
    for name in REMOVED:
        assert f"| `{name}" in removed, name


def _resource_variables(path: Path) -> list[str]:
    """The names a resource file's ``*** Variables ***`` section defines."""
    section = re.search(
        r"^\*\*\* Variables \*\*\*\n(.*?)(?=^\*\*\*|\Z)", path.read_text(), re.MULTILINE | re.DOTALL
    )
    return re.findall(r"^[$@&]\{(\w+)\}", section.group(1), re.MULTILINE) if section else []


def test_every_variable_a_resource_file_defines_is_read() -> None:
    """A variable the kit defines and nothing reads says something untrue (``${POLL_INTERVAL}``
    did: no keyword polled at it)."""
    robot_files = [
        *ROOT.glob("resources/*.resource"),
        *ROOT.glob("suites/**/*.robot"),
        *ROOT.glob("libraries/sockerless_ecs_acceptance/template/suites/*.robot"),
    ]
    texts = [path.read_text() for path in robot_files]
    unread = []
    for path in ROOT.glob("resources/*.resource"):
        for name in _resource_variables(path):
            uses = re.compile(rf"[$@&]\{{{name}\}}|\${name}\b")
            if sum(len(uses.findall(text)) for text in texts) < 2:  # the definition is one
                unread.append(f"{path.name}: {name}")
    assert not unread, unread
