"""Every kit keyword refuses a ``name=value`` it does not know, at the call and in ``--dryrun``.

The keywords are enumerated from libdoc (the library and every resource file), so a keyword added
later is covered the day it is added. The runs go to a scripted daemon: a refused call must not
send a single request. Messages are checked word for word where the issue showed wrong ones: the
keyword named is the one the test called, positional parameters are no options, and the escape
hint, followed, passes the value on.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from robot.api import ExecutionResult, ResultVisitor
from robot.libdocpkg import LibraryDocumentation

from SockerlessLibrary.listeners.argument_check import (
    Refused,
    Signature,
    escape_equals,
    is_kit_resource,
    refusal_message,
    refused_arguments,
)

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[3]
RESOURCE_FILES = sorted((ROOT / "resources").glob("*.resource"))
ROBOT = str(Path(sys.executable).parent / "robot")
RUN_LIMIT_SECONDS = 90
NO_OPTION = "timout"


# The kit's libraries: the keyword library, and the conformance suite's matrix writer (its own
# library and listener, imported by conformance.resource).
LIBRARIES = ("SockerlessLibrary", "SockerlessLibrary.keywords.conformance.ConformanceMatrix")


def public_keywords() -> list[Any]:
    """Every keyword a suite can call: the libraries' and every resource file's (from libdoc)."""
    keywords = [kw for library in LIBRARIES for kw in LibraryDocumentation(library).keywords]
    for path in RESOURCE_FILES:
        keywords.extend(LibraryDocumentation(str(path)).keywords)
    return keywords


def own_options(spec: Any) -> list[str]:
    """The options a keyword's own signature gives (not those a ``&{options}`` forwards)."""
    optional = [name for name in spec.positional_or_named if name in spec.defaults]
    return sorted({*optional, *spec.named_only})


def misspelt_call(keyword: Any) -> tuple[str, str, str | None]:
    """A call with the required arguments and one misspelt option: (the call as a Robot line,
    the misspelt argument, the option it is closest to)."""
    spec = keyword.args
    required = [name for name in spec.positional_or_named if name not in spec.defaults]
    named_required = [f"{name}=1" for name in spec.named_only if name not in spec.defaults]
    options = own_options(spec)
    target = options[0] if options else None
    misspelt = f"{target}{target[-1]}=1" if target else f"{NO_OPTION}=1"
    cells = [keyword.name, *(["1"] * len(required)), *named_required, misspelt]
    return "    ".join(cells), misspelt, target


def robot_run(suite: Path, outdir: Path, env: dict[str, str], *options: str) -> dict[str, Any]:
    subprocess.run(
        [ROBOT, "--outputdir", str(outdir), "--consolecolors", "off", *options, str(suite)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=RUN_LIMIT_SECONDS,
        check=False,
    )
    tests = TestOutcomes()
    ExecutionResult(str(outdir / "output.xml")).visit(tests)
    return tests.found


class TestOutcomes(ResultVisitor):
    """``name -> (status, message)`` of every test of a run."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.found: dict[str, tuple[str, str]] = {}

    def visit_test(self, test: Any) -> None:
        self.found[test.name] = (test.status, test.message)


def run_env(server: Any, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOCKERLESS_", "AWS_"))}
    env.pop("PYTHONPATH", None)
    env["SOCKERLESS_HOST"] = f"unix://{server.path}"
    env["SOCKERLESS_KIT_JOURNAL_DIR"] = str(tmp_path / "journal")
    return env


def resource_lines() -> str:
    return "\n".join(f"Resource    {path}" for path in RESOURCE_FILES)


def answer(connection: Any, request: Any) -> None:
    if request.path.endswith("/_ping"):
        connection.respond(200, "OK", b"OK", content_type="text/plain")
    elif request.path.endswith("/containers/create"):
        connection.respond_json(201, "Created", {"Id": secrets.token_hex(32), "Warnings": []})
    else:
        connection.respond(204, "No Content")


# --- the listener's rule, function by function -------------------------------------------------


def signature(**kwargs: Any) -> Signature:
    return Signature(**{"positional": (), "required": 0, **kwargs})


def test_every_equals_sign_robot_would_split_at_is_escaped() -> None:
    assert escape_equals("FOO=a=b") == "FOO\\=a\\=b"
    assert escape_equals("FOO\\=a=b") == "FOO\\=a\\=b"  # one already escaped stays escaped once
    assert escape_equals("x=${{ 1 == 1 }}") == "x\\=${{ 1 == 1 }}"  # not inside a variable
    assert escape_equals("plain") == "plain"


def test_only_names_robot_would_take_as_options_are_refused() -> None:
    logs = signature(positional=("container_id",), required=1, named_only=("tail", "since"))
    refused = refused_arguments(logs, ["${id}", "tial=1", "tail=2", "${name}=3", "&{more}"])
    assert refused == [Refused("tial=1", "tial", value_meant=False)]
    command = signature(positional=("image",), required=1, var_positional=True, named_only=("env",))
    words = ["alpine", "echo a=b", "--flag=1", "FOO=bar", "FOO\\=bar", "env=${env}"]
    assert refused_arguments(command, words) == [Refused("FOO=bar", "FOO", value_meant=True)]
    # A keyword taking &{options} takes any unescaped name=value as one: all must be known.
    wrapper = signature(var_positional=True, var_named=True, forwarded=("env",))
    assert [r.text for r in refused_arguments(wrapper, ["echo a=b", "env=1"])] == ["echo a=b"]


def test_the_message_names_the_options_the_closest_one_and_an_escape_that_works() -> None:
    exec_should_return = signature(
        positional=("container_id", "line"),
        required=2,
        var_positional=True,
        var_named=True,
        forwarded=("env", "working_dir", "user", "tty", "expected_status", "attach_stdin"),
    )
    refused = refused_arguments(exec_should_return, ["${id}", "hi", "echo", "stdin=hi"])
    assert refusal_message("Exec Should Return", exec_should_return, refused) == (
        "Exec Should Return got unknown option 'stdin=hi': valid options are attach_stdin, env, "
        "expected_status, tty, user, working_dir. If 'stdin=hi' is a value, not an option, "
        "escape each '=': 'stdin\\=hi'"
    )
    several = refused_arguments(signature(named_only=("env",)), ["a=1", "envv=2"])
    assert refusal_message("K", signature(named_only=("env",)), several) == (
        "K got unknown options 'a=1', 'envv=2' (did you mean env?): valid options are env"
    )
    nothing = refused_arguments(signature(), ["x=1"])
    assert refusal_message("Get Run Id", signature(), nothing) == (
        "Get Run Id got unknown option 'x=1': it takes no options"
    )


def test_the_kit_resources_are_the_files_beside_sockerless_resource(tmp_path: Path) -> None:
    assert all(is_kit_resource(path) for path in RESOURCE_FILES)
    assert not is_kit_resource(ROOT / "suites" / "ecs" / "exec.robot")
    own = tmp_path / "mine.resource"
    own.write_text("*** Keywords ***\n")
    assert not is_kit_resource(own)  # a QA engineer's own resource file keeps Robot's rules


# --- every public keyword, in a run and in --dryrun --------------------------------------------


def test_every_public_keyword_refuses_a_misspelt_option_in_a_run_and_in_dryrun(
    serve: Any, keep_alive: Any, tmp_path: Path
) -> None:
    server = serve(keep_alive(answer))
    keywords = public_keywords()
    calls = {}
    lines = []
    for index, keyword in enumerate(keywords):
        line, misspelt, closest = misspelt_call(keyword)
        name = f"Call {index:02d} {keyword.name}"
        calls[name] = (keyword, misspelt, closest)
        lines.append(f"{name}\n    {line}")
    suite = tmp_path / "misspelt.robot"
    suite.write_text(
        f"*** Settings ***\n{resource_lines()}\n\n*** Test Cases ***\n" + "\n".join(lines) + "\n"
    )
    env = run_env(server, tmp_path)
    for mode, options in (("run", ()), ("dryrun", ("--dryrun",))):
        outcome = robot_run(suite, tmp_path / mode, env, *options)
        assert set(outcome) == set(calls), mode
        missed = []
        for name, (keyword, misspelt, closest) in calls.items():
            status, message = outcome[name]
            start = f"{keyword.name} got unknown option '{misspelt}'"
            hint = f" (did you mean {closest}?)" if closest else ""
            if status != "FAIL" or not message.startswith(start + hint):
                missed.append(f"{name}: {status} {message!r}")
                continue
            listed = message.split("valid options are ", 1)[-1].split(".", 1)[0]
            required = [
                n for n in keyword.args.positional_or_named if n not in keyword.args.defaults
            ]
            if any(re.search(rf"\b{n}\b", listed) for n in required):
                missed.append(f"{name}: lists a positional parameter as an option: {message!r}")
            takes_none = not keyword.args.var_named and not own_options(keyword.args)
            if takes_none and "it takes no options" not in message:
                missed.append(f"{name}: {message!r}")
        assert missed == [], f"{mode}: " + "\n".join(missed)
    assert server.request_lines == []  # nothing refused was ever sent, not even a ping
    assert len(calls) == len(keywords) >= 70


ISSUE_SUITE = """\
*** Settings ***
{resources}

*** Test Cases ***
Filter For Filters
    List Containers    filter={{"label": ["qa-group=m1"]}}
Tial For Tail
    Get Container Log Lines    ${{ID}}    tial=1
Timestamp For Timestamps
    Get Container Logs    ${{ID}}    timestamp=${{TRUE}}
The Wrapper Is Named
    Create Fargate Container    echo    hi    workdir=/tmp
The Exec Wrapper Lists Only Options
    Exec Should Return    ${{ID}}    hi    cat    stdin=hi
A Command Word With Two Equals Signs
    Create Fargate Container    env    FOO=a=b
"""

ISSUE_MESSAGES = {
    "Filter For Filters": (
        """List Containers got unknown option 'filter={"label": ["qa-group=m1"]}' (did you mean """
        "filters?): valid options are all, filters"
    ),
    "Tial For Tail": (
        "Get Container Log Lines got unknown option 'tial=1' (did you mean tail?): valid options "
        "are since, stderr, stdout, tail, timeout, timestamps, until"
    ),
    "Timestamp For Timestamps": (
        "Get Container Logs got unknown option 'timestamp=${TRUE}' (did you mean timestamps?): "
        "valid options are follow, since, stderr, stdout, tail, timeout, timestamps, until"
    ),
    "The Wrapper Is Named": (
        "Create Fargate Container got unknown option 'workdir=/tmp' (did you mean working_dir?): "
        "valid options are config, entrypoint, env, expected_status, host_config, image, labels, "
        "name, open_stdin, stop_signal, stop_timeout, tty, user, working_dir. If 'workdir=/tmp' "
        "is a value, not an option, escape each '=': 'workdir\\=/tmp'"
    ),
    "The Exec Wrapper Lists Only Options": (
        "Exec Should Return got unknown option 'stdin=hi': valid options are attach_stdin, env, "
        "expected_status, tty, user, working_dir. If 'stdin=hi' is a value, not an option, "
        "escape each '=': 'stdin\\=hi'"
    ),
}


def test_the_issues_examples_fail_with_true_messages_in_a_run_and_in_dryrun(
    serve: Any, keep_alive: Any, tmp_path: Path
) -> None:
    server = serve(keep_alive(answer))
    suite = tmp_path / "issue.robot"
    suite.write_text(ISSUE_SUITE.format(resources=resource_lines()))
    env = run_env(server, tmp_path)
    for mode, options in (("run", ("--variable", "ID:c0ffee")), ("dryrun", ("--dryrun",))):
        outcome = robot_run(suite, tmp_path / mode, env, *options)
        for name, message in ISSUE_MESSAGES.items():
            assert outcome[name] == ("FAIL", message), (mode, name)
        status, message = outcome["A Command Word With Two Equals Signs"]
        assert status == "FAIL"
        assert message.startswith("Create Fargate Container got unknown option 'FOO=a=b': ")
        assert message.endswith("escape each '=': 'FOO\\=a\\=b'")
    assert server.request_lines == []


HINT_SUITE = """\
*** Settings ***
{resources}

*** Test Cases ***
Create Container With The Hint
    Create Container    alpine:latest    env    {hint}
Create Fargate Container With The Hint
    Create Fargate Container    env    {hint}
"""


def test_the_escape_hint_followed_passes_the_value_on_as_one_command_word(
    serve: Any, keep_alive: Any, tmp_path: Path
) -> None:
    server = serve(keep_alive(answer))
    env = run_env(server, tmp_path)
    first = tmp_path / "first.robot"
    first.write_text(HINT_SUITE.format(resources=resource_lines(), hint="FOO=a=b"))
    refused = robot_run(first, tmp_path / "first", env)
    hints = set()
    for status, message in refused.values():
        assert status == "FAIL"
        hint = re.search(r"escape each '=': '(.*)'$", message)
        assert hint, message
        hints.add(hint.group(1))
    (hint,) = hints
    assert server.request_lines == []
    second = tmp_path / "second.robot"
    second.write_text(HINT_SUITE.format(resources=resource_lines(), hint=hint))
    followed = robot_run(second, tmp_path / "second", env)
    assert {status for status, _ in followed.values()} == {"PASS"}, followed
    creates = [r.json() for r in server.requests if r.path.endswith("/containers/create")]
    assert [body["Cmd"] for body in creates] == [["env", "FOO=a=b"], ["env", "FOO=a=b"]]


def flat(text: str) -> str:
    """``text`` as one line of words, without the table pipes and arrows of a libdoc example."""
    lines = (re.sub(r"^\s*\|?\s*(->)?", "", line) for line in text.splitlines())
    return " ".join(" ".join(lines).split())


def test_the_docs_quote_the_messages_as_they_are() -> None:
    library_doc = flat(LibraryDocumentation("SockerlessLibrary").doc)
    guide = flat((ROOT / "docs" / "writing-suites.md").read_text())
    for quoted in ("Tial For Tail", "The Wrapper Is Named"):
        assert flat(ISSUE_MESSAGES[quoted]) in guide, quoted
    assert flat(ISSUE_MESSAGES["Tial For Tail"]) in library_doc


WRAPPER_SUITE = """\
*** Settings ***
{resources}

*** Test Cases ***
A Misspelt Option Of A Wrapper Of A Wrapper
    Run Probe Container    sh    -c    pwd    workdir=/tmp
A Valid Option Of A Wrapper Of A Wrapper
    Run Probe Container    sh    -c    pwd    working_dir=/tmp    image=alpine:3.20
"""


def test_a_wrapper_of_a_wrapper_takes_the_options_its_wrapper_hands_on(
    serve: Any, keep_alive: Any, tmp_path: Path
) -> None:
    """``Run Probe Container`` (conformance.resource) hands ``&{options}`` to ``Create Fargate
    Container``, a resource keyword, which hands them to ``Create Container``."""
    server = serve(keep_alive(answer))
    suite = tmp_path / "wrapper.robot"
    suite.write_text(WRAPPER_SUITE.format(resources=resource_lines()))
    outcome = robot_run(suite, tmp_path / "dryrun", run_env(server, tmp_path), "--dryrun")
    assert outcome["A Misspelt Option Of A Wrapper Of A Wrapper"] == (
        "FAIL",
        "Run Probe Container got unknown option 'workdir=/tmp' (did you mean working_dir?): "
        "valid options are config, entrypoint, env, expected_status, host_config, image, labels, "
        "name, open_stdin, stop_signal, stop_timeout, tty, user, working_dir. If 'workdir=/tmp' "
        "is a value, not an option, escape each '=': 'workdir\\=/tmp'",
    )
    assert outcome["A Valid Option Of A Wrapper Of A Wrapper"] == ("PASS", "")
    assert server.request_lines == []
