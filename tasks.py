#!/usr/bin/env python3
"""One entry point for setting up and checking the kit, with nothing but python3 installed.

    python3 tasks.py ecs [robot options]
                              set up, then run the ECS acceptance suites on the configured target
                              (the embedded simulator when SOCKERLESS_HOST is not set); options go
                              to robot: --exclude slow, --variable START_TIMEOUT:330s, ...;
                              then the keyword documentation into results/docs/
    python3 tasks.py pabot [pabot and robot options] [paths]
                              suites in parallel with pabot, every process sharing one
                              embedded simulator (SOCKERLESS_SIM_PROFILE=fargate reaches it);
                              without paths the ECS suites (--include ecs unless you select
                              by tag); options go to pabot (--processes 2) and to robot
    python3 tasks.py test     set up, then run every check the project has (what CI runs)
    python3 tasks.py examples the worked example suite of docs/writing-suites.md (tag example)
                              on the embedded simulator
    python3 tasks.py docs     keyword documentation (libdoc HTML) of the library and of every
                              resource file into results/docs/ (tasks.py ecs makes it too)
    python3 tasks.py impostor the ECS suites against a plain Docker Engine (root: installs
                              Debian's docker.io); passes only when every Fargate flow fails
    python3 tasks.py sockerless-profile
                              the ECS suites on the simulator's sockerless profile: passes
                              when the results equal those measured on real sockerless
    python3 tasks.py conformance
                              the Docker conformance suite (suites/conformance) on a plain Docker
                              Engine in Docker-only mode (root: installs Debian's docker.io), where
                              every probe must pass, then on the simulator's default and sockerless
                              profiles, each held to its expected matrix (docs/conformance/)
    python3 tasks.py installed-kit
                              build the wheel and sdist, install the wheel in a new virtual
                              environment outside the checkout, write a team repository there
                              (sockerless-ecs-acceptance init) and run it with its CI job's
                              commands, robot, pabot --processes 2 and robotcode, and the
                              command on the kit's own suites
    python3 tasks.py boto3-range
                              the wheel installed without its simulator extra beside boto3
                              1.40 and beside a newer boto3 than the simulator's pin: pip
                              check, the team suites against a simulator of the checkout's,
                              and the embedded simulator refused naming the extra
    python3 tasks.py robotcode
                              the ECS suites through robotcode with robot.toml's embedded profile
    python3 tasks.py setup    only create/refresh the virtual environment in .venv
    python3 tasks.py lint     ruff, mypy, import-linter (the layers), robocop, and the CI examples
                              (actionlint, GitLab schema)
    python3 tasks.py sweep [sweeper options]
                              clean up what killed runs left behind (options go to the sweeper:
                              python3 tasks.py sweep --run-id ID, --dry-run, --host ADDRESS)
    python3 tasks.py bench [--repeat N]
                              the stream-decoder and per-request overhead benchmarks
    python3 tasks.py --help   this help; -h or --help after any command prints it too, and then
                              nothing is set up, run or removed

Every step runs in a child process with its own time limit, so nothing here can hang a CI job.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import venv
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
RESULTS = ROOT / "results"
REQUIREMENT_FILES = (
    "requirements.txt",
    "requirements-simulator.txt",
    "requirements-dev.txt",
    "pyproject.toml",
    # The editable install's metadata carries the version (`--version` prints it).
    "libraries/SockerlessLibrary/version.py",
)
STAMP = VENV / ".kit-requirements.sha256"
# Puts libraries/ on the checkout's module search path, where the symlink
# libraries/sockerless_ecs_acceptance/resources -> resources/ makes a team suite's
# `Resource    sockerless_ecs_acceptance/resources/<name>.resource` resolve as it does installed.
CHECKOUT_PATH_FILE = "sockerless-kit-checkout.pth"

# Every credential variable a real run could use; stripped for the "no credentials" run.
AWS_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
)
SIMULATOR_QUIRKS = "ip-in-networks-only,ms-timestamps,command-echo-event"
ENGINE_UNAVAILABLE = 77  # `python -m peers.docker_engine run`: no Docker Engine could be had
LIFECYCLE_TEST = (
    "Short-Lived Container Runs To Completion, Is Listed, Logs To CloudWatch And Is Removed"
)
EXEC_TEST = "Long-Running Container Serves Exec Through The Agent And Stops On Request"
START_TIMEOUT_TEST = "Start Of An Unpullable Image Fails With An Error Instead Of Hanging"
CONFIG_TEST = "ECS Cluster And VPC Configuration Come From The Environment"
STEP_TIME_LIMIT_SECONDS = 20 * 60
TOOL_INSTALL_TIME_LIMIT_SECONDS = 5 * 60
ACTIONLINT_MODULE = "github.com/rhysd/actionlint/cmd/actionlint"
ACTIONLINT_VERSION = "v1.7.12"
# The team repository `sockerless-ecs-acceptance init` writes, and its CI jobs (docs/ci.md).
TEMPLATE = ROOT / "libraries" / "sockerless_ecs_acceptance" / "template"
CI_EXAMPLES = TEMPLATE / "ci"
GITHUB_WORKFLOW = CI_EXAMPLES / "github-actions.yml"
GITLAB_CI = CI_EXAMPLES / "gitlab-ci.yml"
# The commands of the CI jobs' embedded-simulator jobs; `installed-kit` runs exactly these in a
# team repository written by `init`, outside the checkout (utest/ci checks the match).
INSTALLED_KIT_COMMANDS = (
    'python -m pip install "${SOCKERLESS_ECS_KIT:?set SOCKERLESS_ECS_KIT to the kit to install}"',
    "sockerless-ecs-acceptance --outputdir results suites",
)
# The kit's own Robot files, which its robocop rules lint (a team's suites beside them, under
# teams/ in the checkout or in their own repository, are the team's to lint).
KIT_ROBOT_PATHS = ("suites", "resources", "atest", str(TEMPLATE.relative_to(ROOT)))
INSTALLED_KIT_OUTPUT = "results"  # the --outputdir of the command above, in its working directory
INSTALL_TIME_LIMIT_SECONDS = 10 * 60
# `tasks.py test` runs its steps this many at a time (pytest, itself parallel, is one of them).
STEP_LANES = 3
# pytest workers: the tests mostly wait on processes and sockets, so more than the 2 cores.
PYTEST_WORKERS = 4


@dataclass
class Tally:
    """Test counts across pytest and robot, and the steps that failed."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failed_steps: list[str] = field(default_factory=list)
    steps_ok: int = 0

    def add(self, passed: int, failed: int, skipped: int) -> None:
        self.passed += passed
        self.failed += failed
        self.skipped += skipped

    def closing_line(self) -> str:
        """The test counts; for a command that ran no test (``lint``, ``docs``), its steps,
        so that the line never reads ``0 failed`` under a list of failed steps."""
        if not (self.passed or self.failed or self.skipped):
            return f"steps: {self.steps_ok} passed, {len(self.failed_steps)} failed"
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"

    @property
    def failing(self) -> bool:
        """Whether a test or a step failed."""
        return bool(self.failed or self.failed_steps)


def requirements_digest() -> str:
    digest = hashlib.sha256()
    for name in REQUIREMENT_FILES:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def setup() -> None:
    """Create .venv and install the pinned requirements, only when they changed."""
    wanted = requirements_digest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        put_libraries_on_the_path()
        return
    if not (BIN / "python").exists():
        print("setup: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("setup: installing requirements (first run takes about a minute)", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True, timeout=STEP_TIME_LIMIT_SECONDS)
    subprocess.run(
        [*pip, "-r", str(ROOT / "requirements-dev.txt")],
        check=True,
        timeout=STEP_TIME_LIMIT_SECONDS,
    )
    # The editable install is what lets robot, libdoc and `python -m` import SockerlessLibrary
    # and sockerless_sim from the repository root with no --pythonpath.
    subprocess.run(
        [*pip, "--no-deps", "-e", str(ROOT)], check=True, timeout=STEP_TIME_LIMIT_SECONDS
    )
    put_libraries_on_the_path()
    STAMP.write_text(wanted + "\n")


def put_libraries_on_the_path() -> None:
    """Write CHECKOUT_PATH_FILE into .venv's site-packages (once; it names this checkout)."""
    for site_packages in VENV.glob("lib/python3*/site-packages"):
        path_file = site_packages / CHECKOUT_PATH_FILE
        line = f"{ROOT / 'libraries'}\n"
        if not path_file.exists() or path_file.read_text() != line:
            path_file.write_text(line)


def exit_zero(code: int) -> tuple[bool, str]:
    """The usual rule: a step worked when it exited 0."""
    return code == 0, f"exit {code}"


def rebot_outcome(code: int) -> tuple[bool, str]:
    """rebot's exit status: 0-250 is the number of failed tests in what it merged (it worked;
    the tests' counts say how they went), 251-255 an error of rebot's own (it did not)."""
    if 0 <= code <= 250:
        return True, f"exit {code}: {code} failed test(s) in the merged output"
    return False, f"exit {code}: rebot could not write the report"


class StepOutput:
    """sys.stdout while steps run concurrently: a thread that runs a step writes to that step's
    buffer, printed whole when the step is over; any other thread writes through."""

    def __init__(self, through: TextIO) -> None:
        self.through = through
        self.local = threading.local()

    def capture(self, buffer: list[str] | None) -> None:
        self.local.buffer = buffer

    def buffer(self) -> list[str] | None:
        return getattr(self.local, "buffer", None)

    def write(self, text: str) -> int:
        buffer = self.buffer()
        if buffer is None:
            return self.through.write(text)
        buffer.append(text)
        return len(text)

    def flush(self) -> None:
        if self.buffer() is None:
            self.through.flush()


def run_bounded(
    command: list[str],
    env: dict[str, str] | None,
    *,
    cwd: Path = ROOT,
    time_limit: float = STEP_TIME_LIMIT_SECONDS,
) -> int | None:
    """Run ``command`` (from the repository root); its exit code, None when it overran the limit.

    Its output goes to the console, or, in a step that runs beside others, into that step's
    buffer (through a file: a pipe could keep us waiting on a grandchild the kill missed)."""
    buffered = isinstance(sys.stdout, StepOutput) and sys.stdout.buffer() is not None
    with tempfile.TemporaryFile() if buffered else contextlib.nullcontext() as output:
        try:
            return subprocess.run(
                command,
                cwd=cwd,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT if output else None,
                timeout=time_limit,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            return None
        finally:
            if output is not None:
                output.seek(0)
                print(output.read().decode(errors="replace"), end="")


def run_announced(
    name: str,
    command: list[str],
    env: dict[str, str] | None,
    *,
    cwd: Path = ROOT,
    time_limit: float = STEP_TIME_LIMIT_SECONDS,
) -> tuple[int | None, float]:
    """Print the step's name and its command (shell-quoted), then run it bounded: its exit code
    (None when it overran ``time_limit``) and the seconds it took."""
    print(f"\n=== {name}\n$ {shlex.join(command)}", flush=True)
    started = time.monotonic()
    code = run_bounded(command, env, cwd=cwd, time_limit=time_limit)
    return code, time.monotonic() - started


def run_step(
    name: str,
    command: list[str],
    tally: Tally,
    env: dict[str, str] | None = None,
    *,
    outcome: Callable[[int], tuple[bool, str]] = exit_zero,
    cwd: Path = ROOT,
    time_limit: float = STEP_TIME_LIMIT_SECONDS,
) -> bool:
    """Run one step; record it as failed when ``outcome`` says its exit status is a failure
    (by default: non-zero) or when it overruns its time limit."""
    code, elapsed = run_announced(name, command, env, cwd=cwd, time_limit=time_limit)
    ok, detail = (False, f"killed after {time_limit:.0f} s") if code is None else outcome(code)
    print(f"=== {name}: {'ok' if ok else 'FAILED'} ({detail}, {elapsed:.1f} s)")
    if ok:
        tally.steps_ok += 1
    else:
        tally.failed_steps.append(name)
    return ok


@contextlib.contextmanager
def exclusive(lock_file: Path, holder: str, time_limit: float) -> Iterator[None]:
    """Hold ``lock_file`` (an flock, across processes); waits at most ``time_limit`` (what
    ``holder``, whoever holds it, is bounded by), then fails naming the lock."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + time_limit
    with lock_file.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{holder} held {lock_file} for {time_limit:.0f} s"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


Step = Callable[["Tally"], None]


def run_concurrently(tally: Tally, steps: list[Step], lanes: int = STEP_LANES) -> None:
    """Run ``steps`` up to ``lanes`` at a time, started in list order.

    Each step's output is kept until it is over, then printed whole, in list order (a step
    waits for those before it), and its counts added in that order; a line for each step
    says when it finished, as it happens. Every command in a step keeps its own time limit.
    """
    console = sys.stdout
    routed = StepOutput(console)
    buffers: list[list[str]] = [[] for _ in steps]
    tallies = [Tally() for _ in steps]
    begun = time.monotonic()

    def run(index: int) -> None:
        routed.capture(buffers[index])
        started = time.monotonic()
        try:
            steps[index](tallies[index])
        except Exception as error:  # a broken step fails the run; it must not stop the others
            print(f"=== {step_name(steps[index])}: FAILED ({type(error).__name__}: {error})")
            tallies[index].failed_steps.append(step_name(steps[index]))
        finally:
            routed.capture(None)
        state = "FAILED" if tallies[index].failing else "done"
        routed.write(
            f"--- {step_name(steps[index])}: {state} in {time.monotonic() - started:.0f} s "
            f"(at {time.monotonic() - begun:.0f} s)\n"
        )
        routed.flush()

    sys.stdout = routed
    try:
        with ThreadPoolExecutor(max(1, lanes), thread_name_prefix="step") as pool:
            futures: list[Future[None]] = [pool.submit(run, i) for i in range(len(steps))]
            for index, future in enumerate(futures):
                future.result()
                console.write("".join(buffers[index]))
                console.flush()
    finally:
        sys.stdout = console
    for step_tally in tallies:
        tally.add(step_tally.passed, step_tally.failed, step_tally.skipped)
        tally.failed_steps.extend(step_tally.failed_steps)
        tally.steps_ok += step_tally.steps_ok


def side_by_side(calls: list[Callable[[], None]], lanes: int) -> None:
    """Run ``calls`` ``lanes`` at a time within one step; each one's output is kept and printed
    whole, in list order, when all are done (as ``run_concurrently`` does for steps)."""
    console = sys.stdout
    routed = console if isinstance(console, StepOutput) else StepOutput(console)
    buffers: list[list[str]] = [[] for _ in calls]

    def run(index: int) -> None:
        routed.capture(buffers[index])
        try:
            calls[index]()
        finally:
            routed.capture(None)

    sys.stdout = routed
    try:
        with ThreadPoolExecutor(max(1, lanes), thread_name_prefix="side-by-side") as pool:
            list(pool.map(run, range(len(calls))))
    finally:
        sys.stdout = console
    for buffer in buffers:
        print("".join(buffer), end="")


def step_name(step: Step) -> str:
    return getattr(step, "__name__", repr(step)).replace("_", " ")


def robot_counts(output_xml: Path) -> tuple[int, int, int]:
    """Pass/fail/skip of all tests, read from robot's output.xml."""
    # The XML files parsed here were written by our own robot/pytest runs moments ago.
    total = ET.parse(output_xml).getroot().find("./statistics/total/stat")  # noqa: S314
    if total is None:
        raise ValueError(f"{output_xml} has no total statistics")
    return int(total.get("pass", 0)), int(total.get("fail", 0)), int(total.get("skip", 0))


@dataclass(frozen=True)
class Expected:
    """The outcome a run must have for one test: its status and a regex its message matches."""

    status: str
    message: str = ""


# A plain Docker Engine is no Fargate backend: every Fargate flow must fail, and the two that get
# as far as a task say what AWS lacked. The unpullable image is refused at create (Docker needs
# the image locally; a Fargate backend pulls at RunTask).
IMPOSTOR_EXPECTATIONS = {
    CONFIG_TEST: Expected("PASS"),
    LIFECYCLE_TEST: Expected("FAIL", r"no ECS task for the container[\s\S]*looked with: ECS"),
    EXEC_TEST: Expected("FAIL", r"no ECS task for the container[\s\S]*looked with: ECS"),
    START_TIMEOUT_TEST: Expected("FAIL", r"No such image|expected on AWS"),
}


# The per-test results of real sockerless 020b7fa4 with its own AWS simulator (docs/sockerless.md):
# the simulator's sockerless profile must reproduce them, failures included.
SOCKERLESS_EXPECTATIONS = {
    CONFIG_TEST: Expected("PASS"),
    LIFECYCLE_TEST: Expected("PASS"),
    EXEC_TEST: Expected("FAIL", r"^Exec [0-9a-f]+ exit code is 0, expected 7"),
    START_TIMEOUT_TEST: Expected(
        "FAIL", r"^Start answered 204 for an image that can never be pulled \("
    ),
}


def compare_outcomes(output_xml: Path, expectations: dict[str, Expected]) -> list[str]:
    """One line per test: ``ok`` or ``MISMATCH`` with what was expected and what happened."""
    root = ET.parse(output_xml).getroot()  # noqa: S314 - our own robot run's output
    lines = []
    seen = set()
    for test in root.iter("test"):
        name = test.get("name", "")
        status = test.find("status")
        actual = "" if status is None else status.get("status", "")
        message = "" if status is None else (status.text or "")
        seen.add(name)
        wanted = expectations.get(name)
        if wanted is None:
            lines.append(f"MISMATCH {name}: no expectation for this test ({actual})")
        elif actual != wanted.status or not re.search(wanted.message, message):
            lines.append(
                f"MISMATCH {name}: expected {wanted.status} /{wanted.message}/, got {actual}: "
                + message.replace("\n", " | ")[:400]
            )
        else:
            lines.append(
                f"ok {name}: {actual}" + (f" ({message.splitlines()[0]})" if message else "")
            )
    lines.extend(f"MISMATCH {name}: did not run" for name in expectations if name not in seen)
    return lines


def junit_counts(junit_xml: Path) -> tuple[int, int, int]:
    """Pass/fail/skip from pytest's JUnit XML."""
    root = ET.parse(junit_xml).getroot()  # noqa: S314
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return tests - failed - skipped, failed, skipped


def robot(
    name: str,
    outdir: str,
    arguments: list[str],
    tally: Tally,
    *,
    env: dict[str, str] | None = None,
    expect: str = "pass",
) -> None:
    """Run robot into results/<outdir> and add its counts.

    expect="skip" is the credential-less real-target run: it must skip every test and fail none.
    """
    output_dir = RESULTS / outdir
    shutil.rmtree(output_dir, ignore_errors=True)
    command = [
        str(BIN / "robot"),
        "--outputdir",
        str(output_dir),
        "--xunit",
        "xunit.xml",
        *arguments,
    ]
    ran_ok = run_step(name, command, tally, env)
    add_robot_counts(name, output_dir / "output.xml", ran_ok, tally, expect=expect)


def add_robot_counts(
    name: str, output_xml: Path, ran_ok: bool, tally: Tally, *, expect: str = "pass"
) -> None:
    """Add the counts of a finished robot run's ``output_xml`` to ``tally``."""
    if not output_xml.exists():
        if ran_ok:
            tally.failed_steps.append(f"{name} (no output.xml)")
        return
    passed, failed, skipped = robot_counts(output_xml)
    tally.add(passed, failed, skipped)
    print(f"=== {name}: {passed} passed, {failed} failed, {skipped} skipped")
    if expect == "skip" and (passed or failed or not skipped):
        tally.failed_steps.append(f"{name} (expected every test skipped)")


def lint(tally: Tally) -> None:
    run_step("ruff check", [str(BIN / "ruff"), "check", "."], tally)
    run_step("ruff format --check", [str(BIN / "ruff"), "format", "--check", "."], tally)
    run_step("mypy", [str(BIN / "mypy")], tally)
    run_step(
        "lint-imports (the layers of docs/architecture.md)",
        [str(BIN / "lint-imports"), "--no-logo", "--no-cache"],
        tally,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(["libraries", "simulator"])},
    )
    robocop = str(BIN / "robocop")
    run_step("robocop check", [robocop, "check", *KIT_ROBOT_PATHS], tally)
    run_step(
        "robocop format --check",
        [robocop, "format", "--check", "--diff", *KIT_ROBOT_PATHS],
        tally,
    )
    lint_ci_examples(tally)


def actionlint(tally: Tally) -> Path | None:
    """actionlint at the pinned version, built once with ``go install`` into .venv/tools/.

    The lint step and utest/ci both ask for it, side by side in ``tasks.py test``: the first
    builds it under a lock, the other waits and finds it built."""
    directory = VENV / "tools" / f"actionlint-{ACTIONLINT_VERSION}"
    binary = directory / "actionlint"
    lock = directory.parent / f"{directory.name}.lock"
    with exclusive(lock, "an install of actionlint", TOOL_INSTALL_TIME_LIMIT_SECONDS):
        if binary.exists():
            return binary
        go = shutil.which("go") or shutil.which("go", path="/usr/local/go/bin")
        if go is None:
            print("=== actionlint: FAILED (no `go` on PATH to install it with; Go 1.22 or later)")
            tally.failed_steps.append("actionlint (no Go toolchain)")
            return None
        # GOTOOLCHAIN=local: build with the Go that is here, never fetch another toolchain.
        env = {**os.environ, "GOBIN": str(directory), "GOTOOLCHAIN": "local"}
        installed = run_step(
            f"install actionlint {ACTIONLINT_VERSION}",
            [go, "install", f"{ACTIONLINT_MODULE}@{ACTIONLINT_VERSION}"],
            tally,
            env,
            time_limit=TOOL_INSTALL_TIME_LIMIT_SECONDS,
        )
        return binary if installed and binary.exists() else None


def lint_ci_examples(tally: Tally) -> None:
    """The team template's CI jobs: the workflow with actionlint, the GitLab file against the
    GitLab CI schema (as check-jsonschema ships it)."""
    binary = actionlint(tally)
    if binary is not None:
        # shellcheck and pyflakes stay off: actionlint would use them only where installed.
        run_step(
            "actionlint (the team template's CI jobs)",
            [str(binary), "-shellcheck=", "-pyflakes=", str(GITHUB_WORKFLOW.relative_to(ROOT))],
            tally,
        )
    run_step(
        "GitLab CI schema (the team template's CI jobs)",
        [
            str(BIN / "check-jsonschema"),
            *["--builtin-schema", "vendor.gitlab-ci", str(GITLAB_CI.relative_to(ROOT))],
        ],
        tally,
    )


def environment_without_credentials() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in AWS_CREDENTIAL_VARIABLES}
    # A real target that is not there: with no credentials nothing may even try to reach it.
    env["SOCKERLESS_HOST"] = "unix:///var/run/sockerless.sock"
    return env


def embedded_environment(**extra: str) -> dict[str, str]:
    """The environment for a run on the embedded simulator: no real-target variables leak in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SOCKERLESS_HOST", "SOCKERLESS_ECS_SOCKET", "SOCKERLESS_ENDPOINT_URL")
    }
    env.update(extra)
    return env


def ecs(tally: Tally, extra_args: list[str]) -> None:
    robot("ECS acceptance suites", "ecs", ["--include", "ecs", *extra_args, "suites"], tally)
    docs(tally)


def docs(tally: Tally) -> None:
    """HTML keyword documentation (libdoc) of the library and of every resource file, the
    keywords suites are written with, into results/docs/ (docs/writing-suites.md links them)."""
    output_dir = RESULTS / "docs"
    shutil.rmtree(output_dir, ignore_errors=True)
    output_dir.mkdir(parents=True)
    libraries = ["SockerlessLibrary", "SockerlessLibrary.keywords.conformance.ConformanceMatrix"]
    sources = [*libraries, *map(str, sorted((ROOT / "resources").glob("*.resource")))]
    for source in sources:
        name = Path(source).stem if source.endswith(".resource") else source.rsplit(".", 1)[-1]
        run_step(
            f"libdoc {name}",
            [str(BIN / "libdoc"), source, str(output_dir / f"{name}.html")],
            tally,
        )


def examples(tally: Tally) -> None:
    """The worked example suite of docs/writing-suites.md (tag example) on the embedded simulator:
    what the guide promises a QA engineer must keep passing."""
    robot(
        "example suite (docs/writing-suites.md) on the embedded simulator",
        "examples",
        ["--include", "example", "suites"],
        tally,
        env=embedded_environment(),
    )


# Reads a pabot command line with pabot's own parser (in .venv): its paths and whether it selects
# by tag, so `tasks.py pabot` adds its defaults only where robot would have nothing.
PABOT_SELECTION = (
    "import json, sys; from pabot.arguments import parse_args; "
    "options, paths, _, _ = parse_args(sys.argv[1:]); "
    "print(json.dumps({'paths': paths, 'include': bool(options.get('include'))}))"
)


def pabot_arguments(extra_args: list[str]) -> list[str]:
    """The user's pabot and robot options with the defaults robot would need: without paths the
    kit's ``suites``, and ``--include ecs`` unless the user selects by tag (as the console
    command does). Raises ``ValueError`` when pabot cannot read the options."""
    parsed = subprocess.run(
        [str(BIN / "python"), "-c", PABOT_SELECTION, *extra_args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if parsed.returncode != 0:
        raise ValueError(f"pabot cannot read the options: {parsed.stderr.strip()[-500:]}")
    selection = json.loads(parsed.stdout)
    if selection["paths"]:
        return list(extra_args)
    include = [] if selection["include"] else ["--include", "ecs"]
    return [*include, *extra_args, "suites"]


def merged_metadata(output_xml: Path) -> dict[str, str]:
    """The top suite's metadata in a (merged) output.xml."""
    top = ET.parse(output_xml).getroot().find("suite")  # noqa: S314 - our own run's output
    if top is None:
        return {}
    return {meta.get("name", ""): meta.text or "" for meta in top.findall("meta")}


def pabot(tally: Tally, extra_args: list[str]) -> None:
    """Suites under pabot against one shared simulator (by default the ECS suites).

    One simulator for all processes keeps pabot near the slowest suite's own time (a simulator per
    process costs each ~2.5 s of CPU at start); ``SOCKERLESS_SIM_PROFILE`` and the other
    simulator variables reach it. Paths and ``--include`` select as in robot. The processes
    share one Fargate task budget (a new SOCKERLESS_KIT_BUDGET_ID; the run id stays per
    process: suite sweeps must not reach into another process's containers) and report their
    usage and cleanup to it, so the merged report holds the run's totals; the step checks its
    ``Fargate tasks`` against the tasks the simulator itself launched, and that pabot's output
    directory holds the merged ``timeline.json``.
    """
    output_dir = RESULTS / "pabot"
    shutil.rmtree(output_dir, ignore_errors=True)
    output_dir.mkdir(parents=True)
    stats_file = output_dir / "simulator-stats.json"
    budget_id = time.strftime("pabot-%Y%m%dT%H%M%SZ-", time.gmtime()) + os.urandom(3).hex()
    env = embedded_environment(
        PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
        SOCKERLESS_KIT_BUDGET_ID=budget_id,
    )
    try:
        arguments = pabot_arguments(extra_args)
    except ValueError as error:
        print(f"=== pabot: FAILED ({error})")
        tally.failed_steps.append("pabot (its options)")
        return
    run_step(
        "suites with pabot (one shared simulator)",
        [
            str(BIN / "python"),
            "-m",
            "sockerless_sim.with_simulator",
            "--stats-file",
            str(stats_file),
            "--",
            *[str(BIN / "pabot"), "--processes", "3", "--outputdir", str(output_dir)],
            *arguments,
        ],
        tally,
        env,
    )
    output_xml = output_dir / "output.xml"
    if not (output_xml.exists() and stats_file.exists()):
        tally.failed_steps.append("pabot wrote no output.xml or simulator stats")
        return
    launched = json.loads(stats_file.read_text())["aws"]["tasks_launched"]
    metadata = merged_metadata(output_xml)
    reported = metadata.get("Fargate tasks")
    if reported is not None and reported != str(launched):
        print(f"=== pabot: the merged report says {reported} Fargate tasks, {launched} ran")
        tally.failed_steps.append("pabot (Fargate tasks in the merged report)")
    if launched and not (output_dir / "timeline.json").is_file():
        print("=== pabot: no merged timeline.json in the output directory")
        tally.failed_steps.append("pabot (merged timeline.json)")
    print(f"=== pabot: {launched} Fargate task(s) launched; merged report: {reported}")
    passed, failed, skipped = robot_counts(output_xml)
    tally.add(passed, failed, skipped)
    print(f"=== pabot: {passed} passed, {failed} failed, {skipped} skipped")


def robot_with_expectations(
    name: str,
    command: list[str],
    output_dir: Path,
    expectations: dict[str, Expected],
    *,
    tally: Tally,
    env: dict[str, str],
) -> None:
    """Run ``command`` (a robot run writing to ``output_dir``) and compare each test's outcome
    with ``expectations``: a match counts as passed, a mismatch as failed, so a test that must
    fail and does is a pass of this step. Exit 77 without output: no Docker Engine, skipped."""
    shutil.rmtree(output_dir, ignore_errors=True)
    code, elapsed = run_announced(name, command, env)
    output_xml = output_dir / "output.xml"
    if code == ENGINE_UNAVAILABLE and not output_xml.exists():
        print(f"=== {name}: SKIPPED, no Docker Engine could be had ({elapsed:.1f} s)")
        tally.add(0, 0, 1)
        return
    if not output_xml.exists():
        ended = f"killed after {STEP_TIME_LIMIT_SECONDS} s" if code is None else f"exit {code}"
        print(f"=== {name}: FAILED ({ended}, no output.xml, {elapsed:.1f} s)")
        tally.failed_steps.append(name)
        return
    lines = compare_outcomes(output_xml, expectations)
    print("\n".join(f"    {line}" for line in lines))
    matched = sum(1 for line in lines if line.startswith("ok "))
    tally.add(matched, len(lines) - matched, 0)
    print(f"=== {name}: {matched} of {len(lines)} outcomes as expected ({elapsed:.1f} s)")


def robot_command(output_dir: Path, suite_name: str) -> list[str]:
    """``robot`` on the ECS suites into ``output_dir`` under a top-level suite name."""
    return [
        *[str(BIN / "robot"), "--outputdir", str(output_dir), "--xunit", "xunit.xml"],
        *["--include", "ecs", "--name", suite_name, "suites"],
    ]


def impostor(tally: Tally) -> None:
    """The ECS suites against a plain Docker Engine, with the embedded simulator's AWS side.

    The engine runs every container for real but launches nothing on ECS: every Fargate flow
    must fail, naming what AWS lacked. Without an engine (not root, no package) it is skipped.
    """
    output_dir = RESULTS / "ecs-impostor"
    command = [
        *[str(BIN / "python"), "-m", "sockerless_sim.with_simulator", "--"],
        *[str(BIN / "python"), "-m", "peers.docker_engine", "run", "--env-var", "SOCKERLESS_HOST"],
        "--",
        *robot_command(output_dir, "ECS Against A Plain Docker Engine"),
    ]
    robot_with_expectations(
        "ECS suites against a plain Docker Engine (the impostor)",
        command,
        output_dir,
        IMPOSTOR_EXPECTATIONS,
        tally=tally,
        env=embedded_environment(),
    )


def sockerless_profile(tally: Tally) -> None:
    """The ECS suites on the simulator's ``sockerless`` profile: the per-test results measured
    on real sockerless (docs/sockerless.md), failures included."""
    output_dir = RESULTS / "ecs-sockerless-profile"
    robot_with_expectations(
        "ECS suites on the simulator's sockerless profile (as measured on sockerless)",
        robot_command(output_dir, "ECS On The Sockerless Profile"),
        output_dir,
        SOCKERLESS_EXPECTATIONS,
        tally=tally,
        env=embedded_environment(SOCKERLESS_SIM_QUIRKS="sockerless"),
    )


CONFORMANCE_SUITE = "suites/conformance"
CONFORMANCE_DOCS = ROOT / "docs" / "conformance"
# The simulator's instant profile delivers a log line in 0.5 s and removes a container at once:
# a probe of something that never comes need not wait the spec's 30 s for it there.
SIMULATOR_CONFORMANCE_VARIABLES = ("LOGS_TIMEOUT:5s", "REMOVAL_TIMEOUT:5s")
SOCKERLESS_PROFILE_SCALE = "0.5"
DOCKER_LABEL = "the project's private Docker Engine (peers/docker_engine.py)"


def conformance_run(
    tally: Tally,
    name: str,
    output_dir: Path,
    robot_options: list[str],
    expected: Path,
    *,
    env: dict[str, str],
    engine: tuple[str, ...] = (),
) -> None:
    """Run the conformance suite into ``output_dir`` (behind ``engine``, a private Docker Engine
    handing the suite its address), then check the ``conformance.json`` it wrote against
    ``expected``: each probe as expected counts as passed, each other as failed. Without an
    engine (exit 77 and no output) the run counts as skipped."""
    shutil.rmtree(output_dir, ignore_errors=True)
    command = [
        *engine,
        *[str(BIN / "robot"), "--outputdir", str(output_dir), "--xunit", "xunit.xml"],
        *["--include", "conformance", *robot_options, CONFORMANCE_SUITE],
    ]
    code, elapsed = run_announced(name, command, env)
    matrix = output_dir / "conformance.json"
    if engine and code == ENGINE_UNAVAILABLE and not (output_dir / "output.xml").exists():
        print(f"=== {name}: SKIPPED, no Docker Engine could be had ({elapsed:.1f} s)")
        tally.add(0, 0, 1)
        return
    if not matrix.exists():
        print(f"=== {name}: FAILED (exit {code}, no conformance.json, {elapsed:.1f} s)")
        tally.failed_steps.append(name)
        return
    checker = [str(BIN / "python"), "-m", "SockerlessLibrary.conformance", "check"]
    check = subprocess.run(
        [*checker, "--expected", str(expected), str(matrix)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = check.stdout.splitlines() + check.stderr.splitlines()
    print("\n".join(f"    {line}" for line in lines))
    matched = sum(1 for line in lines if line.startswith("ok "))
    tally.add(matched, len(lines) - matched, 0)
    print(f"=== {name}: {matched} of {len(lines)} probes as expected ({elapsed:.1f} s)")


def simulator_conformance_options(suite_name: str) -> list[str]:
    variables = [arg for value in SIMULATOR_CONFORMANCE_VARIABLES for arg in ("--variable", value)]
    return [*variables, "--name", suite_name]


def conformance_docker(tally: Tally) -> None:
    """The conformance suite in Docker-only mode against a plain Docker Engine (the peer): every
    probe must pass, as in the reference matrix docs/conformance/docker-engine.json. No AWS
    credentials reach it: a plain Docker Engine has no AWS side."""
    env = {k: v for k, v in embedded_environment().items() if k not in AWS_CREDENTIAL_VARIABLES}
    conformance_run(
        tally,
        "Docker conformance on a plain Docker Engine (every probe must pass)",
        RESULTS / "conformance-docker",
        [
            *["--variable", "DOCKER_ONLY:true", "--variable", f"CONFORMANCE_LABEL:{DOCKER_LABEL}"],
            *["--name", "Docker Conformance On A Docker Engine"],
        ],
        CONFORMANCE_DOCS / "docker-engine.json",
        env=env,
        engine=(
            *[str(BIN / "python"), "-m", "peers.docker_engine", "run"],
            *["--env-var", "SOCKERLESS_HOST", "--"],
        ),
    )


def conformance_simulator(tally: Tally) -> None:
    """The conformance suite on the simulator's default profile, held to its expected matrix."""
    conformance_run(
        tally,
        "Docker conformance on the simulator (default profile)",
        RESULTS / "conformance-simulator",
        simulator_conformance_options("Docker Conformance On The Simulator"),
        CONFORMANCE_DOCS / "expected-simulator.json",
        env=embedded_environment(),
    )


def conformance_sockerless_profile(tally: Tally) -> None:
    """The conformance suite on the simulator's sockerless profile, held to its expected matrix:
    the one measured on sockerless (docs/conformance/sockerless-*.json) but for what the profile
    cannot reproduce (docs/conformance.md). At half time: sockerless' stop grace and follow
    tail (10 s, 18 s) are most of the run, and the statuses do not depend on their length."""
    conformance_run(
        tally,
        "Docker conformance on the simulator's sockerless profile",
        RESULTS / "conformance-sockerless-profile",
        simulator_conformance_options("Docker Conformance On The Sockerless Profile"),
        CONFORMANCE_DOCS / "expected-sockerless-profile.json",
        env=embedded_environment(
            SOCKERLESS_SIM_QUIRKS="sockerless", SOCKERLESS_SIM_TIME_SCALE=SOCKERLESS_PROFILE_SCALE
        ),
    )


def conformance(tally: Tally) -> None:
    """The three conformance runs one after another (``tasks.py test`` runs them side by side)."""
    for step in (conformance_docker, conformance_simulator, conformance_sockerless_profile):
        step(tally)


def robotcode(tally: Tally) -> None:
    """The ECS suites through ``robotcode`` with robot.toml's ``embedded`` profile."""
    profile = tomllib.loads((ROOT / "robot.toml").read_text())["profiles"]["embedded"]
    output_dir = ROOT / profile["output-dir"]
    shutil.rmtree(output_dir, ignore_errors=True)
    name = "ECS suites through robotcode (robot.toml, profile embedded)"
    command = [str(BIN / "robotcode"), "--profile", "embedded", "robot"]
    ran_ok = run_step(name, command, tally, embedded_environment())
    add_robot_counts(name, output_dir / "output.xml", ran_ok, tally)


# `python -m build` writes setuptools' egg-info into the checkout: the installed-kit step and
# utest/distribution, which run side by side in `tasks.py test`, must not build at once.
SOURCE_BUILD_LOCK = VENV / ".source-build.lock"


def source_build_lock(
    time_limit: float = INSTALL_TIME_LIMIT_SECONDS,
) -> contextlib.AbstractContextManager[None]:
    """Hold the checkout's build lock (a holder's build is bounded by the same limit)."""
    return exclusive(SOURCE_BUILD_LOCK, "another build of the checkout", time_limit)


_wheel_lock = threading.Lock()
_wheel: list[Path | None] = []  # the built wheel, once built (None: the build failed)


def built_wheel(tally: Tally) -> Path | None:
    """The kit's wheel, built from its sdist into results/dist/ once per tasks.py run and shared
    by every step that installs it (the first to ask builds; the others wait for it)."""
    with _wheel_lock:
        if _wheel:
            return _wheel[0]
        dist = RESULTS / "dist"
        shutil.rmtree(dist, ignore_errors=True)
        with source_build_lock():
            built = run_step(
                "build the sdist and, from it, the wheel",
                [str(BIN / "python"), "-m", "build", "--outdir", str(dist), str(ROOT)],
                tally,
                time_limit=INSTALL_TIME_LIMIT_SECONDS,
            )
        wheels = sorted(dist.glob("*.whl"))
        _wheel.append(wheels[0] if built and len(wheels) == 1 else None)
        if _wheel[0] is None:
            tally.failed_steps.append(f"the kit's wheel (built: {built}, wheels: {wheels})")
        return _wheel[0]


def frozen_requirements(leave_out: tuple[str, ...] = ()) -> str:
    """.venv's installed versions as pip constraints (the checkout's own editable install and
    the distributions in ``leave_out`` left out)."""
    frozen = subprocess.run(
        [str(BIN / "python"), "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = frozen.stdout.splitlines()
    return "".join(
        f"{line}\n"
        for line in lines
        if not any(line.lower().startswith(f"{name}==") for name in leave_out)
    )


@dataclass
class KitEnvironment:
    """A new virtual environment outside the checkout, to install the kit's wheel in."""

    directory: Path
    constraints: Path

    @property
    def bin(self) -> Path:
        return self.directory / "venv" / "bin"

    def env(self, **extra: str) -> dict[str, str]:
        """The embedded environment with this venv first on PATH, nothing of the checkout."""
        env = embedded_environment(
            PATH=os.pathsep.join([str(self.bin), os.environ.get("PATH", "")]),
            VIRTUAL_ENV=str(self.directory / "venv"),
            PIP_CONSTRAINT=str(self.constraints),
            **extra,
        )
        env.pop("PYTHONPATH", None)
        return env


def new_kit_environment(
    work: Path, tally: Tally, leave_out: tuple[str, ...] = (), *, with_pip: bool = True
) -> KitEnvironment | None:
    """``work/venv``, with ``work/constraints.txt`` holding .venv's versions (but ``leave_out``).

    ``with_pip=False`` saves installing pip into it (``.venv``'s pip installs into it with
    ``--python``), where no command has to run ``python -m pip`` inside it."""
    constraints = work / "constraints.txt"
    try:
        constraints.write_text(frozen_requirements(leave_out))
    except (subprocess.SubprocessError, OSError) as error:
        tally.failed_steps.append(f"pip freeze of .venv ({error})")
        return None
    created = run_step(
        "a new virtual environment outside the checkout",
        [
            *(sys.executable, "-m", "venv", str(work / "venv")),
            *([] if with_pip else ["--without-pip"]),
        ],
        tally,
        time_limit=TOOL_INSTALL_TIME_LIMIT_SECONDS,
    )
    return KitEnvironment(work, constraints) if created else None


@dataclass(frozen=True)
class TeamRun:
    """One way of running the team repository's suites, and where it writes."""

    name: str
    command: list[str]
    output_dir: str  # relative to the team repository


def team_runs(kit: KitEnvironment) -> list[TeamRun]:
    """The team repository's suites the ways a team runs them (the CI command is run before)."""
    return [
        TeamRun(
            "robot",
            [str(kit.bin / "robot"), "--outputdir", "results-robot", "suites"],
            "results-robot",
        ),
        TeamRun(
            "pabot --processes 2",
            [str(kit.bin / "pabot"), "--processes", "2", "--outputdir", "results-pabot", "suites"],
            "results-pabot",
        ),
        TeamRun(
            "robotcode -p embedded robot",
            [str(kit.bin / "robotcode"), "-p", "embedded", "robot"],
            "results/embedded",
        ),
        TeamRun(
            "the console command on the kit's own suites",
            [str(kit.bin / "sockerless-ecs-acceptance"), "--outputdir", "results-kit"],
            "results-kit",
        ),
    ]


TEAM_TESTS = 3  # the template's example suites
TEAM_FARGATE_TASKS = "3"


def team_run_problems(run: TeamRun, team: Path, kit: KitEnvironment) -> list[str]:
    """What is wrong with one run of the team repository: no output, a failed test, a kit that
    came from anywhere but the new environment; under pabot, a report that does not add up."""
    output_dir = team / run.output_dir
    output_xml = output_dir / "output.xml"
    if not output_xml.is_file():
        return [f"{run.name}: no output.xml in {run.output_dir}"]
    passed, failed, skipped = robot_counts(output_xml)
    problems = []
    if run.output_dir == "results-kit":
        problems += installed_run_problems(output_dir, kit.directory / "venv")
    elif (passed, failed, skipped) != (TEAM_TESTS, 0, 0):
        problems.append(f"{run.name}: {passed} passed, {failed} failed, {skipped} skipped")
    if run.output_dir == "results-pabot":
        metadata = merged_metadata(output_xml)
        if metadata.get("Fargate tasks") != TEAM_FARGATE_TASKS:
            problems.append(
                f"{run.name}: the merged report says {metadata.get('Fargate tasks')} Fargate tasks"
            )
        if not (output_dir / "timeline.json").is_file():
            problems.append(f"{run.name}: no merged timeline.json")
    syslogs = sorted(output_dir.rglob("syslog.txt"))  # pabot's processes write one each
    if syslogs:
        site_packages = next((kit.directory / "venv").glob("lib/python3*/site-packages"), None)
        imported = [
            path
            for syslog in syslogs
            for path in re.findall(r"Imported resource file '([^']+)'", syslog.read_text())
        ]
        outside = [
            path
            for path in imported
            if site_packages is None or not Path(path).is_relative_to(site_packages)
        ]
        if not imported or outside:
            problems.append(
                f"{run.name}: resource files from {outside or 'nowhere'}, not the installed kit"
            )
    return problems


def installed_kit(tally: Tally) -> None:
    """A team repository on the kit as a team gets it: the wheel (built from the sdist) in a new
    virtual environment outside the checkout, ``sockerless-ecs-acceptance init`` there, the CI
    jobs' own commands word for word (``INSTALLED_KIT_COMMANDS``), then its suites with
    ``robot``, ``pabot --processes 2`` and ``robotcode -p embedded robot``, and the console
    command on the kit's own suites, all on the embedded simulator.

    pip resolves the dependencies from the package index, held to the versions of .venv by
    PIP_CONSTRAINT, which leaves the commands as the jobs have them. The results are copied to
    results/installed-kit/.
    """
    name = "the installed kit, outside the checkout"
    results = RESULTS / "installed-kit"
    shutil.rmtree(results, ignore_errors=True)
    wheel = built_wheel(tally)
    if wheel is None:
        return
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kit-installed-") as scratch:
        work = Path(scratch)
        kit = new_kit_environment(work, tally)
        if kit is None:
            return
        team = work / "team"
        env = kit.env(SOCKERLESS_ECS_KIT=f"{wheel}[simulator]")
        ran = run_step(
            INSTALLED_KIT_COMMANDS[0],
            ["bash", "-c", INSTALLED_KIT_COMMANDS[0]],
            tally,
            env,
            cwd=work,
            time_limit=INSTALL_TIME_LIMIT_SECONDS,
        )
        ran = ran and run_step(
            "robotcode for its runner",
            [str(kit.bin / "python"), "-m", "pip", "install", "-q", "robotcode[runner]"],
            tally,
            env,
            cwd=work,
            time_limit=INSTALL_TIME_LIMIT_SECONDS,
        )
        ran = ran and run_step(
            "sockerless-ecs-acceptance init team",
            [str(kit.bin / "sockerless-ecs-acceptance"), "init", str(team)],
            tally,
            env,
            cwd=work,
        )
        if ran:
            problems += installed_version_problems(kit, wheel, env)
            (team / "results").mkdir()
            run_step(
                INSTALLED_KIT_COMMANDS[1],
                ["bash", "-c", INSTALLED_KIT_COMMANDS[1]],
                tally,
                {**env, "ROBOT_SYSLOG_FILE": str(team / "results" / "syslog.txt")},
                cwd=team,
            )
            problems += team_run_problems(TeamRun("the CI job's command", [], "results"), team, kit)
            runs = team_runs(kit)

            def one(run: TeamRun) -> Callable[[], None]:
                syslog = team / run.output_dir / "syslog.txt"
                syslog.parent.mkdir(parents=True, exist_ok=True)
                run_env = {**env, "ROBOT_SYSLOG_FILE": str(syslog)}

                def go() -> None:
                    run_step(run.name, run.command, tally, run_env, cwd=team)

                return go

            side_by_side([one(run) for run in runs], lanes=2)
            for run in runs:
                problems += team_run_problems(run, team, kit)
            for directory in ("results", "results-robot", "results-pabot", "results-kit"):
                if (team / directory).is_dir():
                    shutil.copytree(team / directory, results / directory)
    for problem in problems:
        print(f"=== {name}: {problem}")
        tally.failed_steps.append(f"{name} ({problem})")
    # Every run's tests count: the CI job's, robot's, pabot's, robotcode's and the kit's own.
    for output_xml in sorted(results.glob("*/output.xml")) + sorted(
        results.glob("results/embedded/output.xml")
    ):
        add_robot_counts(
            f"{name}: {output_xml.parent.relative_to(results)}", output_xml, True, tally
        )


# boto3 beside which the kit must install (it requires boto3>=1.40, requirements.txt): the
# newest of the lower bound's line, and one newer than the simulator's pin (1.44.5).
OLDER_BOTO3 = "1.40.76"
NEWER_BOTO3 = "1.44.18"
# What the kit must say when its simulator's pins are not installed (simulator_extra.py).
MISSING_EXTRA = "needs the kit's 'simulator' extra"


def kit_beside_boto3(tally: Tally, boto3_version: str) -> None:
    """The kit installed without its simulator extra beside another boto3, as in a team's
    environment that already holds one: pip resolves it, ``pip check`` is clean, the team
    repository's suites pass with that boto3 against a simulator of the checkout's (as against
    sockerless with its own AWS simulator), and the embedded simulator is refused with the
    command that installs the extra."""
    name = f"the kit beside boto3 {boto3_version}"
    wheel = built_wheel(tally)
    if wheel is None:
        return
    with tempfile.TemporaryDirectory(prefix="kit-boto3-") as scratch:
        work = Path(scratch)
        kit = new_kit_environment(
            work, tally, leave_out=("boto3", "botocore", "s3transfer"), with_pip=False
        )
        if kit is None:
            return
        env, python = kit.env(), str(kit.bin / "python")
        pip = [str(BIN / "python"), "-m", "pip", "--python", python]
        team = work / "team"
        ran = run_step(
            f"install the wheel beside boto3=={boto3_version}",
            [*pip, "install", "-q", str(wheel), f"boto3=={boto3_version}"],
            tally,
            env,
            cwd=work,
            time_limit=INSTALL_TIME_LIMIT_SECONDS,
        )
        ran = ran and run_step("pip check", [*pip, "check"], tally, env, cwd=work)
        ran = ran and run_step(
            "the installed boto3 and no moto",
            [python, "-c", BOTO3_CHECK, boto3_version],
            tally,
            env,
            cwd=work,
        )
        ran = ran and run_step(
            "sockerless-ecs-acceptance init team",
            [str(kit.bin / "sockerless-ecs-acceptance"), "init", str(team)],
            tally,
            env,
            cwd=work,
        )
        if not ran:
            return
        command = [str(kit.bin / "sockerless-ecs-acceptance"), "--outputdir"]
        run_step(
            f"the team's suites on boto3 {boto3_version}, against a simulator of the checkout's",
            [
                *(str(BIN / "python"), "-m", "sockerless_sim.with_simulator", "--"),
                *command,
                "results",
                "suites",
            ],
            tally,
            env,
            cwd=team,
        )
        add_robot_counts(name, team / "results" / "output.xml", True, tally)
        run_step(
            "the embedded simulator without the extra (must be refused)",
            [*command, "refused", "suites"],
            tally,
            env,
            cwd=team,
            outcome=lambda code: (code != 0, f"exit {code}"),
        )
        problem = refusal_problem(team / "refused" / "output.xml")
        if problem:
            print(f"=== {name}: {problem}")
            tally.failed_steps.append(f"{name} ({problem})")


BOTO3_CHECK = (
    "import importlib.util, sys, boto3; "
    "assert boto3.__version__ == sys.argv[1], boto3.__version__; "
    "assert importlib.util.find_spec('moto') is None, 'moto is installed'; "
    "print('boto3', boto3.__version__, 'without moto')"
)


def refusal_problem(output_xml: Path) -> str | None:
    """Why a run on the embedded simulator without its extra was not refused as it must be:
    every test failed, naming the extra and the install command, and none passed."""
    if not output_xml.is_file():
        return "no output.xml of the refused run"
    passed, failed, _ = robot_counts(output_xml)
    messages = [
        status.text or ""
        for status in ET.parse(output_xml).getroot().iter("status")  # noqa: S314
    ]
    if passed or not failed:
        return f"the refused run: {passed} passed, {failed} failed"
    if not any(
        MISSING_EXTRA in m and "sockerless-ecs-acceptance[simulator]==" in m for m in messages
    ):
        return f"the refused run does not say that the embedded simulator {MISSING_EXTRA}"
    return None


def kit_beside_older_boto3(tally: Tally) -> None:
    kit_beside_boto3(tally, OLDER_BOTO3)


def kit_beside_newer_boto3(tally: Tally) -> None:
    kit_beside_boto3(tally, NEWER_BOTO3)


def boto3_range(tally: Tally) -> None:
    """The kit beside the older and the newer boto3, side by side (each with its own tally)."""
    tallies = [Tally(), Tally()]
    side_by_side(
        [
            lambda: kit_beside_older_boto3(tallies[0]),
            lambda: kit_beside_newer_boto3(tallies[1]),
        ],
        lanes=2,
    )
    for each in tallies:
        tally.add(each.passed, each.failed, each.skipped)
        tally.failed_steps.extend(each.failed_steps)


def installed_version_problems(kit: KitEnvironment, wheel: Path, env: dict[str, str]) -> list[str]:
    """``sockerless-ecs-acceptance --version`` must print the installed wheel's version."""
    wheel_version = wheel.name.split("-")[1]
    printed = subprocess.run(
        [str(kit.bin / "sockerless-ecs-acceptance"), "--version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    expected = f"sockerless-ecs-acceptance {wheel_version}"
    if printed.stdout.strip() != expected:
        return [f"--version printed {printed.stdout.strip()!r}, the wheel is {wheel.name}"]
    print(f"=== --version: {expected} (the wheel: {wheel.name})")
    return []


def installed_run_problems(output_dir: Path, venv_dir: Path) -> list[str]:
    """What is wrong with the installed kit's run in ``output_dir``: a missing file, or suites
    that ran from anywhere but the virtual environment's site-packages."""
    problems = [
        f"no {file} in the chosen output dir"
        for file in ("output.xml", "report.html", "log.html", "xunit.xml")
        if not (output_dir / file).is_file()
    ]
    if not problems:
        top = ET.parse(output_dir / "output.xml").getroot().find("suite")  # noqa: S314
        source = Path("" if top is None else top.get("source", ""))
        if not source.is_relative_to(venv_dir) or "site-packages" not in source.parts:
            problems.append(f"the suites ran from {source}, not from the installed package")
    return problems


def pytest_run(tally: Tally, name: str, junit_name: str, options: list[str]) -> None:
    junit = RESULTS / junit_name
    junit.unlink(missing_ok=True)
    command = [str(BIN / "python"), "-m", "pytest", "utest", "-q", *options]
    run_step(name, [*command, f"--junitxml={junit}"], tally)
    if junit.exists():
        tally.add(*junit_counts(junit))


def pytest_parallel(tally: Tally) -> None:
    """All but the ``timing`` tests, on PYTEST_WORKERS workers (utest/conftest.py says how the
    tests are shared out)."""
    options = ["-n", str(PYTEST_WORKERS), "-m", "not timing"]
    pytest_run(tally, "pytest utest (parallel)", "utest.xml", options)


def pytest_timing(tally: Tally) -> None:
    """The ``timing`` tests (they assert how fast something is here), with nothing beside."""
    options = ["-p", "no:xdist", "-m", "timing"]
    pytest_run(tally, "pytest utest (timing, alone)", "utest-timing.xml", options)


def dryrun(tally: Tally) -> None:
    # A dry run proves the files parse and keywords resolve: its failure fails the check, but
    # its counts are not tests.
    counts = Tally()
    robot("robot --dryrun", "dryrun", ["--dryrun", "suites", "atest"], counts)
    tally.failed_steps.extend(counts.failed_steps)


def atest(tally: Tally) -> None:
    robot("library self-tests (atest)", "atest", ["atest"], tally, env=embedded_environment())


def ecs_on_simulator(tally: Tally) -> None:
    robot(
        "ECS suites on the embedded simulator",
        "ecs",
        ["--include", "ecs", "suites"],
        tally,
        env=embedded_environment(),
    )


def ecs_with_quirks(tally: Tally) -> None:
    robot(
        "ECS suites with real-sockerless quirks switched on",
        "ecs-quirks",
        ["--include", "ecs", "--name", "ECS With Sockerless Quirks", "suites"],
        tally,
        env=embedded_environment(SOCKERLESS_SIM_QUIRKS=SIMULATOR_QUIRKS),
    )


def ecs_without_credentials(tally: Tally) -> None:
    robot(
        "ECS suites against a real target without AWS credentials",
        "ecs-no-credentials",
        ["--include", "ecs", "--name", "ECS Without Credentials", "suites"],
        tally,
        env=environment_without_credentials(),
        expect="skip",
    )


# Every check of `tasks.py test`, run concurrently (STEP_LANES at a time) and reported in this
# order; each writes only its own results/<dir> and starts its own simulator or engine. The
# longest start first: pytest, then the steps that install the wheel (they mostly wait on pip
# and the package index), so that the short ones fill the lanes at the end. A new check is one
# more line here.
TEST_STEPS: list[Step] = [
    pytest_parallel,
    installed_kit,
    kit_beside_older_boto3,
    kit_beside_newer_boto3,
    conformance_sockerless_profile,
    conformance_simulator,
    conformance_docker,
    lint,
    docs,
    dryrun,
    atest,
    ecs_on_simulator,
    examples,
    ecs_with_quirks,
    ecs_without_credentials,
    sockerless_profile,
    impostor,
    robotcode,
]
# Run after those, one at a time with nothing beside them: what they measure is time.
ALONE_STEPS: list[Step] = [pytest_timing]


def test(tally: Tally) -> None:
    RESULTS.mkdir(exist_ok=True)
    run_concurrently(tally, TEST_STEPS)
    for step in ALONE_STEPS:
        step(tally)


def sweep(arguments: list[str]) -> int:
    return subprocess.call([str(BIN / "python"), "-m", "SockerlessLibrary.sweep", *arguments])


def bench(arguments: list[str]) -> int:
    # One run: the stream decoder, then per-request overhead (both take --repeat N).
    mux = subprocess.call([str(BIN / "python"), "benchmarks/mux_benchmark.py", *arguments])
    overhead = subprocess.call(
        [str(BIN / "python"), "benchmarks/overhead_benchmark.py", *arguments]
    )
    return mux or overhead


# Commands that run checks and close with the tally's line; the first two pass their arguments on.
CHECKS_WITH_ARGUMENTS: dict[str, Callable[[Tally, list[str]], None]] = {"ecs": ecs, "pabot": pabot}
CHECKS: dict[str, Callable[[Tally], None]] = {
    "test": test,
    "lint": lint,
    "impostor": impostor,
    "sockerless-profile": sockerless_profile,
    "conformance": conformance,
    "installed-kit": installed_kit,
    "boto3-range": boto3_range,
    "robotcode": robotcode,
    "examples": examples,
    "docs": docs,
}
# Commands whose own exit status is the answer.
PASS_THROUGH: dict[str, Callable[[list[str]], int]] = {"sweep": sweep, "bench": bench}
HELP_OPTIONS = ("-h", "--help")


def command_problem(command: str, arguments: list[str]) -> str | None:
    """Why ``command arguments`` cannot run (``None`` when it can), decided before any setup."""
    if command in CHECKS_WITH_ARGUMENTS or command in PASS_THROUGH:
        return None
    if command in CHECKS or command == "setup":
        return f"'{command}' takes no arguments, got: {' '.join(arguments)}" if arguments else None
    return f"unknown command '{command}'"


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("test", [])
    # Help is answered before anything is set up, run or removed, whatever the command.
    if command in (*HELP_OPTIONS, "help") or any(argument in HELP_OPTIONS for argument in rest):
        print(__doc__)
        return 0
    problem = command_problem(command, rest)
    if problem:
        print(f"tasks.py: {problem}; `python3 tasks.py --help` lists the commands", file=sys.stderr)
        return 2
    setup()
    if command in PASS_THROUGH:
        return PASS_THROUGH[command](rest)
    tally = Tally()
    if command in CHECKS_WITH_ARGUMENTS:
        CHECKS_WITH_ARGUMENTS[command](tally, rest)
    elif command in CHECKS:
        CHECKS[command](tally)
    else:  # setup
        return 0
    if tally.failed_steps:
        print("\nfailed steps: " + "; ".join(tally.failed_steps))
    print(tally.closing_line())
    return 1 if tally.failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
