"""The CI jobs `init` writes (the team template's) do what docs/ci.md promises, and their
linters can fail.

* the embedded-simulator jobs run exactly the commands ``python3 tasks.py installed-kit`` runs
  (``tasks.INSTALLED_KIT_COMMANDS``), so the project's own check is a run of those jobs;
* the AWS jobs take the target from secrets, turn the require-credentials switch on, refuse to
  run without a daemon address (the kit would fall back to its simulator and pass), sweep what
  the run left, keep results/ and publish the xunit file;
* actionlint and the GitLab schema pass on the examples and fail on a broken copy.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

import tasks

pytestmark = pytest.mark.timeout(400)

WORKFLOW = tasks.GITHUB_WORKFLOW
GITLAB = tasks.GITLAB_CI
SHELL_TIME_LIMIT_SECONDS = 10


def load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    return document


def github_jobs() -> dict[str, Any]:
    jobs: dict[str, Any] = load(WORKFLOW)["jobs"]
    return jobs


def gitlab_jobs() -> dict[str, Any]:
    """The GitLab jobs, with ``extends`` applied (one level, as the example uses it)."""
    document = load(GITLAB)
    jobs = {}
    for name, job in document.items():
        if name.startswith(".") or not isinstance(job, dict) or "script" not in job:
            continue
        jobs[name] = {**document.get(job.get("extends", ""), {}), **job}
    return jobs


def run_commands(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def uses(job: dict[str, Any], action: str) -> dict[str, Any]:
    (step,) = [step for step in job["steps"] if step.get("uses", "").startswith(action + "@")]
    return dict(step)


def bash(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=SHELL_TIME_LIMIT_SECONDS,
        check=False,
    )


def test_the_embedded_jobs_run_exactly_the_projects_own_commands() -> None:
    assert run_commands(github_jobs()["embedded-simulator"]) == list(tasks.INSTALLED_KIT_COMMANDS)
    assert gitlab_jobs()["sockerless-ecs-embedded-simulator"]["script"] == list(
        tasks.INSTALLED_KIT_COMMANDS
    )


def test_the_embedded_jobs_need_no_secrets() -> None:
    for text in (
        yaml.safe_dump(github_jobs()["embedded-simulator"]),
        yaml.safe_dump(gitlab_jobs()["sockerless-ecs-embedded-simulator"]),
    ):
        assert "secrets." not in text
        assert "SOCKERLESS_HOST" not in text
        assert "AWS_" not in text


def test_the_install_command_names_the_missing_variable_instead_of_installing_nothing() -> None:
    completed = bash(tasks.INSTALLED_KIT_COMMANDS[0], {})
    assert completed.returncode != 0
    assert "SOCKERLESS_ECS_KIT: set SOCKERLESS_ECS_KIT to the kit to install" in completed.stderr


def test_the_aws_jobs_take_the_target_from_secrets_with_the_credentials_switch_on() -> None:
    github = github_jobs()["aws"]
    env = github["env"]
    assert env["SOCKERLESS_KIT_REQUIRE_CREDENTIALS"] == "true"
    for secret in ("SOCKERLESS_HOST", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert env[secret] == "${{ secrets.%s }}" % secret  # noqa: UP031 - GitHub's own braces
    for variable in (
        "AWS_REGION",
        "SOCKERLESS_ECS_CLUSTER",
        "SOCKERLESS_ECS_SUBNETS",
        "SOCKERLESS_ECS_SECURITY_GROUPS",
    ):
        assert env[variable] == "${{ vars.%s }}" % variable  # noqa: UP031
    assert github["if"] == "${{ github.event_name != 'pull_request' }}"  # forks get no secrets
    gitlab = gitlab_jobs()["sockerless-ecs-aws"]
    assert gitlab["variables"]["SOCKERLESS_KIT_REQUIRE_CREDENTIALS"] == "true"
    assert gitlab["rules"] == [
        {"if": '$CI_PIPELINE_SOURCE == "schedule" || $CI_PIPELINE_SOURCE == "web"'}
    ]


@pytest.mark.parametrize("example", ["github", "gitlab"])
def test_an_aws_job_without_a_daemon_address_fails_before_it_installs(example: str) -> None:
    """Without SOCKERLESS_HOST the kit would run its embedded simulator and pass: the job
    must fail first. The guard is run as the job runs it."""
    if example == "github":
        commands = run_commands(github_jobs()["aws"])
    else:
        commands = gitlab_jobs()["sockerless-ecs-aws"]["script"]
    guard = commands[0]
    assert "pip install" in commands[1]
    empty = bash(guard, {"SOCKERLESS_HOST": ""})
    unset = bash(guard, {})
    assert empty.returncode == unset.returncode == 1
    assert "SOCKERLESS_HOST is empty" in empty.stdout + empty.stderr
    assert bash(guard, {"SOCKERLESS_HOST": "tcp://sockerless.internal:2375"}).returncode == 0


def test_the_aws_jobs_sweep_what_the_run_left_even_when_cancelled() -> None:
    sweep = (
        'python -m SockerlessLibrary.sweep --run-id "$SOCKERLESS_KIT_RUN_ID"'
        ' --host "$SOCKERLESS_HOST"'
    )
    github = github_jobs()["aws"]
    (step,) = [s for s in github["steps"] if s.get("run") == sweep]
    assert step["if"] == "${{ always() }}"
    assert github["env"]["SOCKERLESS_KIT_RUN_ID"].startswith("gha-${{ github.run_id }}")
    gitlab = gitlab_jobs()["sockerless-ecs-aws"]
    assert gitlab["after_script"] == [sweep]
    assert gitlab["variables"]["SOCKERLESS_KIT_RUN_ID"] == "gitlab-$CI_PIPELINE_ID-$CI_JOB_ID"


@pytest.mark.parametrize("job", ["embedded-simulator", "aws"])
def test_github_keeps_results_and_publishes_the_xunit_file(job: str) -> None:
    steps = github_jobs()[job]
    artifact = uses(steps, "actions/upload-artifact")
    assert artifact["with"]["path"] == "results/"
    assert artifact["if"] in ("${{ !cancelled() }}", "${{ always() }}")
    published = uses(steps, "EnricoMi/publish-unit-test-result-action")
    assert published["with"]["files"] == "results/xunit.xml"
    assert published["if"] == artifact["if"]
    assert steps["permissions"]["checks"] == "write"


@pytest.mark.parametrize("job", ["sockerless-ecs-embedded-simulator", "sockerless-ecs-aws"])
def test_gitlab_keeps_results_and_publishes_the_xunit_file(job: str) -> None:
    artifacts = gitlab_jobs()[job]["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["paths"] == ["results/"]
    assert artifacts["reports"] == {"junit": "results/xunit.xml"}


def test_the_command_writes_what_the_jobs_keep() -> None:
    """The jobs keep results/ and publish results/xunit.xml: the command's --outputdir and
    its default --xunit file name."""
    for command in (
        tasks.INSTALLED_KIT_COMMANDS[1],
        " ".join(run_commands(github_jobs()["aws"])[2].split()),
    ):
        assert command.startswith("sockerless-ecs-acceptance --outputdir results")


@pytest.fixture(scope="module")
def actionlint() -> Path:
    binary = tasks.actionlint(tasks.Tally())
    assert binary is not None, "actionlint could not be installed with go install"
    return binary


def lint_workflow(actionlint: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(actionlint), "-shellcheck=", "-pyflakes=", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def check_gitlab(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tasks.BIN / "check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_actionlint_passes_the_workflow_and_fails_a_broken_one(
    actionlint: Path, tmp_path: Path
) -> None:
    assert lint_workflow(actionlint, WORKFLOW).returncode == 0
    broken = tmp_path / "workflow.yml"
    broken.write_text(WORKFLOW.read_text().replace("if-no-files-found:", "if-no-file-found:"))
    completed = lint_workflow(actionlint, broken)
    assert completed.returncode == 1
    assert 'input "if-no-file-found" is not defined in action "actions/upload-artifact@v7"' in (
        completed.stdout
    )


def test_the_gitlab_schema_passes_the_job_and_fails_a_misspelt_key(tmp_path: Path) -> None:
    assert check_gitlab(GITLAB).returncode == 0
    broken = tmp_path / "gitlab-ci.yml"
    broken.write_text(GITLAB.read_text().replace("  after_script:", "  afterscript:"))
    completed = check_gitlab(broken)
    assert completed.returncode == 1
    assert "Additional properties are not allowed ('afterscript' was unexpected)" in (
        completed.stdout
    )
