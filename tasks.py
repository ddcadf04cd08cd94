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
    python3 tasks.py unit     the unit tests (utest/unit, in-process, under 30 s; what plain
                              `pytest` runs)
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
                              the wheel installed without its simulator extra at the lower
                              bounds of its requirements (Robot Framework 7.1, boto3 1.40, ...)
                              and beside a newer boto3 than the simulator's pin: pip check,
                              the team suites against a simulator of the checkout's, and the
                              embedded simulator refused naming the extra
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
What a run must show is judged by pytest (utest/); this file sets up, runs, installs and reports.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import venv
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

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
# The simulator's alpine and busybox tasks run the host's busybox when it is installed, else
# host programs of the same names: every step must see the same ones, so setup installs it
# (the Docker Engine steps would install it mid-check otherwise), bounded in time.
BUSYBOX_PACKAGE = "busybox-static"
APT_UPDATE_TIME_LIMIT_SECONDS = 180
APT_INSTALL_TIME_LIMIT_SECONDS = 300

# Every credential variable a real run could use; stripped for the "no credentials" run.
AWS_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
)
SIMULATOR_QUIRKS = "ip-in-networks-only,ms-timestamps,command-echo-event"
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
# team repository written by `init`, outside the checkout (utest/system/ci checks the match).
INSTALLED_KIT_COMMANDS = (
    'python -m pip install "${SOCKERLESS_ECS_KIT:?set SOCKERLESS_ECS_KIT to the kit to install}"',
    "sockerless-ecs-acceptance --outputdir results suites",
)
# The kit's own Robot files, which its robocop rules lint (a team's suites beside them, under
# teams/ in the checkout or in their own repository, are the team's to lint).
KIT_ROBOT_PATHS = ("suites", "resources", "atest", str(TEMPLATE.relative_to(ROOT)))
INSTALL_TIME_LIMIT_SECONDS = 10 * 60
# `tasks.py test` runs its steps this many at a time (pytest, itself parallel, is one of them).
STEP_LANES = 3
# pytest workers: the tests mostly wait on processes and sockets, so more than the 2 cores.
PYTEST_WORKERS = 4
UNIT_TESTS = "utest/unit"
SYSTEM_TESTS = "utest/system"
# System tests that `tasks.py test` runs as steps of their own, not in the parallel run: the
# tests against one private Docker Engine (one engine, so one process), and the robot runs
# whose outcomes utest/system/runs judges (each a step, as long as a suite run).
ENGINE_TESTS = "utest/system/engine"
RUN_JUDGEMENTS = "utest/system/runs"
# `tasks.py` hands the wheel it built to the steps that install it (utest/kit_environment.py).
WHEEL_VARIABLE = "SOCKERLESS_KIT_WHEEL"


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


def step_name(step: Step) -> str:
    return getattr(step, "__name__", repr(step)).replace("_", " ")


def ensure_busybox() -> None:
    """Install ``busybox-static`` before any step when it is missing and can be (root and
    apt-get, bounded; ``peers.docker_engine``'s installer), or say that it cannot."""
    command = [
        *(sys.executable, "-m", "peers.docker_engine", "install", BUSYBOX_PACKAGE),
        *("--update-timeout", str(APT_UPDATE_TIME_LIMIT_SECONDS)),
        *("--install-timeout", str(APT_INSTALL_TIME_LIMIT_SECONDS)),
    ]
    limit = APT_UPDATE_TIME_LIMIT_SECONDS + APT_INSTALL_TIME_LIMIT_SECONDS + 60
    try:
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=limit, check=False
        )
        said = (done.stdout.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        ok = done.returncode == 0
    except subprocess.TimeoutExpired:
        said, ok = f"the install did not finish within {limit} s", False
    if ok:
        print(f"setup: {said.removeprefix('docker engine: ')}", flush=True)
    else:
        print(
            f"setup: {said.removeprefix('docker engine: ').rstrip('.')}; the simulator's alpine "
            "and busybox tasks run this host's programs of the same names instead",
            flush=True,
        )


def result_counts(kind: str, path: Path) -> dict[str, Any]:
    """What ``utest/outcomes.py`` reads in a result file (robot's ``counts`` through robot.api,
    or pytest's ``junit``): passed, failed, skipped (and a robot run's metadata)."""
    read = subprocess.run(
        [str(BIN / "python"), "-m", "utest.outcomes", kind, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if read.returncode != 0:
        raise ValueError(f"cannot read {path}: {read.stderr.strip()[-500:]}")
    found: dict[str, Any] = json.loads(read.stdout)
    return found


def said_counts(found: dict[str, Any]) -> str:
    return f"{found['passed']} passed, {found['failed']} failed, {found['skipped']} skipped"


def add_counts(name: str, kind: str, path: Path, ran_ok: bool, tally: Tally) -> None:
    """Add the counts of a finished run's result file to ``tally``."""
    if not path.exists():
        if ran_ok:
            tally.failed_steps.append(f"{name} (no {path.name})")
        return
    try:
        found = result_counts(kind, path)
    except ValueError as error:
        print(f"=== {name}: FAILED ({error})")
        tally.failed_steps.append(f"{name} (its results)")
        return
    tally.add(found["passed"], found["failed"], found["skipped"])
    print(f"=== {name}: {said_counts(found)}")


def robot(
    name: str,
    outdir: str,
    arguments: list[str],
    tally: Tally,
    *,
    env: dict[str, str] | None = None,
    count: bool = True,
) -> None:
    """Run robot into results/<outdir> and add its counts (``count=False``: only its status)."""
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
    if count:
        add_counts(name, "counts", output_dir / "output.xml", ran_ok, tally)


def pytest_step(
    tally: Tally,
    name: str,
    junit_name: str,
    arguments: list[str],
    env: dict[str, str] | None = None,
) -> None:
    """Run pytest with ``arguments`` and add the counts of its JUnit XML."""
    junit = RESULTS / junit_name
    junit.unlink(missing_ok=True)
    command = [str(BIN / "python"), "-m", "pytest", "-q", *arguments, f"--junitxml={junit}"]
    ran_ok = run_step(name, command, tally, env)
    add_counts(name, "junit", junit, ran_ok, tally)


def judged_run(tally: Tally, name: str, module: str, env: dict[str, str] | None = None) -> None:
    """A module of utest/system/runs: it runs what it judges (a robot run, an installed kit)
    and prints what it ran (``-s``); its tests are the step's counts."""
    path = f"{RUN_JUDGEMENTS}/{module}"
    pytest_step(tally, name, f"{Path(module).stem}.xml", [path, "-s", "-p", "no:xdist"], env)


def unit(tally: Tally) -> None:
    """The unit tests: in-process, no simulator, engine or robot run (what plain pytest runs)."""
    pytest_step(tally, "pytest utest/unit", "utest-unit.xml", [UNIT_TESTS, "-p", "no:xdist"])


def pytest_system(tally: Tally) -> None:
    """The system tests but the ``timing`` ones, the engine's and the judged runs, on
    PYTEST_WORKERS workers, a test file to a worker (utest/conftest.py)."""
    pytest_step(
        tally,
        "pytest utest/system (parallel)",
        "utest-system.xml",
        [
            *(SYSTEM_TESTS, "-n", str(PYTEST_WORKERS), "-m", "not timing"),
            *("--dist", "loadfile", "--no-loadscope-reorder"),
            *("--ignore", ENGINE_TESTS, "--ignore", RUN_JUDGEMENTS),
        ],
    )


def engine_tests(tally: Tally) -> None:
    """The library, the simulator and the peer module against one private Docker Engine."""
    pytest_step(
        tally,
        "pytest utest/system/engine (one Docker Engine)",
        "utest-engine.xml",
        [ENGINE_TESTS, "-p", "no:xdist"],
    )


def pytest_timing(tally: Tally) -> None:
    """The ``timing`` tests (they assert how fast something is here), with nothing beside."""
    pytest_step(
        tally,
        "pytest utest/system (timing, alone)",
        "utest-timing.xml",
        [SYSTEM_TESTS, "-p", "no:xdist", "-m", "timing", "--ignore", RUN_JUDGEMENTS],
    )


def dryrun(tally: Tally) -> None:
    # A dry run proves the files parse and keywords resolve: its failure fails the check, but
    # its counts are not tests.
    robot("robot --dryrun", "dryrun", ["--dryrun", "suites", "atest"], tally, count=False)


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
    judged_run(
        tally,
        "ECS suites against a real target without AWS credentials",
        "test_without_credentials.py",
    )


def impostor(tally: Tally) -> None:
    """The ECS suites against a plain Docker Engine: every Fargate flow must fail."""
    judged_run(tally, "ECS suites against a plain Docker Engine (the impostor)", "test_impostor.py")


def sockerless_profile(tally: Tally) -> None:
    """The ECS suites on the simulator's ``sockerless`` profile: as measured on sockerless."""
    judged_run(
        tally,
        "ECS suites on the simulator's sockerless profile (as measured on sockerless)",
        "test_sockerless_profile.py",
    )


def conformance_docker(tally: Tally) -> None:
    """The conformance suite in Docker-only mode on a plain Docker Engine: every probe passes."""
    judged_run(
        tally,
        "Docker conformance on a plain Docker Engine (every probe must pass)",
        "test_conformance_docker.py",
    )


def conformance_simulator(tally: Tally) -> None:
    """The conformance suite on the simulator's default profile, held to its expected matrix."""
    judged_run(
        tally,
        "Docker conformance on the simulator (default profile)",
        "test_conformance_simulator.py",
    )


def conformance_sockerless_profile(tally: Tally) -> None:
    """The conformance suite on the simulator's sockerless profile, held to its expected matrix."""
    judged_run(
        tally,
        "Docker conformance on the simulator's sockerless profile",
        "test_conformance_sockerless_profile.py",
    )


def conformance(tally: Tally) -> None:
    """The three conformance runs one after another (``tasks.py test`` runs them side by side)."""
    for step in (conformance_docker, conformance_simulator, conformance_sockerless_profile):
        step(tally)


def with_wheel(tally: Tally, name: str, module: str) -> None:
    """A judged run that installs the kit's wheel (the one this tasks.py run built)."""
    wheel = built_wheel(tally)
    if wheel is not None:
        judged_run(tally, name, module, {**os.environ, WHEEL_VARIABLE: str(wheel)})


def installed_kit(tally: Tally) -> None:
    with_wheel(tally, "the installed kit, outside the checkout", "test_installed_kit.py")


def kit_at_lower_bounds(tally: Tally) -> None:
    with_wheel(tally, "the kit at its requirements' lower bounds", "test_kit_at_lower_bounds.py")


def kit_beside_newer_boto3(tally: Tally) -> None:
    with_wheel(tally, "the kit beside a newer boto3", "test_kit_beside_newer_boto3.py")


def boto3_range(tally: Tally) -> None:
    """The kit at its lower bounds and beside the newer boto3, side by side."""
    run_concurrently(tally, [kit_at_lower_bounds, kit_beside_newer_boto3], lanes=2)


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


def embedded_environment(**extra: str) -> dict[str, str]:
    """The environment for a run on the embedded simulator: no real-target variables leak in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SOCKERLESS_HOST", "SOCKERLESS_ECS_SOCKET", "SOCKERLESS_ENDPOINT_URL")
    }
    env.update(extra)
    return env


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


def robotcode(tally: Tally) -> None:
    """The ECS suites through ``robotcode`` with robot.toml's ``embedded`` profile."""
    profile = tomllib.loads((ROOT / "robot.toml").read_text())["profiles"]["embedded"]
    output_dir = ROOT / profile["output-dir"]
    shutil.rmtree(output_dir, ignore_errors=True)
    name = "ECS suites through robotcode (robot.toml, profile embedded)"
    command = [str(BIN / "robotcode"), "--profile", "embedded", "robot"]
    ran_ok = run_step(name, command, tally, embedded_environment())
    add_counts(name, "counts", output_dir / "output.xml", ran_ok, tally)


# `python -m build` writes setuptools' egg-info into the checkout: the installed-kit step and
# utest/system/distribution, which run side by side in `tasks.py test`, must not build at once.
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


def ecs(tally: Tally, extra_args: list[str]) -> None:
    robot("ECS acceptance suites", "ecs", ["--include", "ecs", *extra_args, "suites"], tally)
    docs(tally)


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


def pabot(tally: Tally, extra_args: list[str]) -> None:
    """Suites under pabot against one shared simulator (by default the ECS suites).

    One simulator for all processes keeps pabot near the slowest suite's own time (a simulator per
    process costs each ~2.5 s of CPU at start); ``SOCKERLESS_SIM_PROFILE`` and the other
    simulator variables reach it. Paths and ``--include`` select as in robot. The processes
    share one Fargate task budget (the budget id they agree on through PabotLib, as under a
    plain pabot; the run id stays per process: suite sweeps must not reach into another
    process's containers) and report their usage and cleanup to it, so the merged report holds
    the run's totals; the step checks its ``Fargate tasks`` against the tasks the simulator
    itself launched, and that pabot's output directory holds the merged ``timeline.json``.
    """
    output_dir = RESULTS / "pabot"
    shutil.rmtree(output_dir, ignore_errors=True)
    output_dir.mkdir(parents=True)
    stats_file = output_dir / "simulator-stats.json"
    env = embedded_environment(PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]))
    env.pop("SOCKERLESS_KIT_BUDGET_ID", None)  # one exported for an earlier run must not count here
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
    try:
        found = result_counts("counts", output_xml)
    except ValueError as error:
        print(f"=== pabot: FAILED ({error})")
        tally.failed_steps.append("pabot (its results)")
        return
    reported = found["metadata"].get("Fargate tasks")
    if reported is not None and reported != str(launched):
        print(f"=== pabot: the merged report says {reported} Fargate tasks, {launched} ran")
        tally.failed_steps.append("pabot (Fargate tasks in the merged report)")
    if launched and not (output_dir / "timeline.json").is_file():
        print("=== pabot: no merged timeline.json in the output directory")
        tally.failed_steps.append("pabot (merged timeline.json)")
    print(f"=== pabot: {launched} Fargate task(s) launched; merged report: {reported}")
    tally.add(found["passed"], found["failed"], found["skipped"])
    print(f"=== pabot: {said_counts(found)}")


# Every check of `tasks.py test`, run concurrently (STEP_LANES at a time) and reported in this
# order; each writes only its own results/<dir> and starts its own simulator or engine. The
# longest start first: pytest, then the steps that install the wheel (they mostly wait on pip
# and the package index), so that the short ones fill the lanes at the end. A new check is one
# more line here.
TEST_STEPS: list[Step] = [
    pytest_system,
    installed_kit,
    kit_at_lower_bounds,
    kit_beside_newer_boto3,
    conformance_sockerless_profile,
    conformance_simulator,
    conformance_docker,
    engine_tests,
    unit,
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
    "unit": unit,
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
# Checks that need no simulator: setup leaves the host's programs alone for them.
WITHOUT_SIMULATOR = ("unit", "lint", "docs")
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
    if command != "setup" and command not in WITHOUT_SIMULATOR:
        ensure_busybox()
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
