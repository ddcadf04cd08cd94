"""The real Docker CLI (and docker-py) against the embedded simulator, checked on the AWS side.

Every ``docker`` command is bounded (``COMMAND_TIMEOUT``), so a response head the daemon never
sends fails the test instead of hanging it. The last test checks what ECS shows for every
container the scenario removed; it relies on the tests above it having run (file order).
"""

from __future__ import annotations

import re
import time
from typing import Any

import docker
import pytest
from cli_helpers import DockerCli

from sockerless_sim.launcher import SimulatorProcess

LABEL = "suite=sim-cli"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z ")
RUN_DETACHED_BOUND = 5.0  # seconds; about 0.4 s measured under the instant profile


def _container_id(cli: DockerCli, ref: str) -> str:
    return cli("inspect", "-f", "{{.Id}}", ref).stdout.strip()


def _await_logs(cli: DockerCli, ref: str, text: str) -> None:
    deadline = time.monotonic() + 10
    while text not in cli("logs", ref).stdout:
        assert time.monotonic() < deadline, f"{text!r} never reached the logs of {ref}"
        time.sleep(0.1)


def _remove(cli: DockerCli, ref: str, *, force: bool = False) -> None:
    full_id = _container_id(cli, ref)
    cli("rm", *(["-f"] if force else []), ref)
    cli.removed.append(full_id)


def test_run_attached_streams_output_and_propagates_the_exit_code(docker_cli: DockerCli) -> None:
    done = docker_cli(
        "run", "--name", "cli-attached", "-e", "GREETING=hello from fargate", "--label", LABEL,
        "alpine:latest", "sh", "-c", 'echo "$GREETING"; echo oops >&2; exit 3', check=False,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert done.stdout == "hello from fargate\n"
    assert "oops" in done.stderr
    state = docker_cli("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "cli-attached")
    assert state.stdout.split() == ["exited", "3"]
    labels = docker_cli("inspect", "-f", '{{index .Config.Labels "suite"}}', "cli-attached")
    assert labels.stdout.strip() == "sim-cli"
    _remove(docker_cli, "cli-attached")


def test_run_rm_removes_the_container_after_its_output(docker_cli: DockerCli) -> None:
    done = docker_cli("run", "--rm", "--name", "cli-rm", "--label", LABEL, "alpine", "echo", "bye")
    assert done.stdout == "bye\n"
    assert docker_cli("ps", "-a", "-q", "--filter", "name=cli-rm").stdout == ""


def test_run_detached_returns_at_once_then_exec_logs_stop_wait(docker_cli: DockerCli) -> None:
    began = time.monotonic()
    done = docker_cli(
        "run", "-d", "--name", "cli-detached", "--label", LABEL, "alpine:latest",
        "sh", "-c", "echo one; echo two; echo three; exec tail -f /dev/null",
    )  # fmt: skip
    elapsed = time.monotonic() - began
    assert elapsed < RUN_DETACHED_BOUND, f"docker run -d took {elapsed:.2f} s"
    container_id = done.stdout.strip()
    listed = docker_cli("ps", "-q", "--no-trunc", "--filter", f"label={LABEL}").stdout.split()
    assert container_id in listed
    assert docker_cli("exec", "cli-detached", "echo", "in the task").stdout == "in the task\n"
    piped = docker_cli("exec", "-i", "cli-detached", "cat", input_text="through stdin\n")
    assert piped.stdout == "through stdin\n"
    _await_logs(docker_cli, "cli-detached", "three")
    assert docker_cli("logs", "--tail", "1", "cli-detached").stdout == "three\n"
    stamped = docker_cli("logs", "-t", "cli-detached").stdout.splitlines()
    assert [TIMESTAMP.sub("", line) for line in stamped] == ["one", "two", "three"]
    assert all(TIMESTAMP.match(line) for line in stamped)
    docker_cli("stop", "cli-detached")
    assert docker_cli("wait", "cli-detached").stdout.strip() == "143"  # SIGTERM ends tail
    assert docker_cli("ps", "-q", "--filter", f"label={LABEL}").stdout == ""
    _remove(docker_cli, "cli-detached")


def test_create_start_attach_kill_and_force_remove(docker_cli: DockerCli) -> None:
    docker_cli("create", "--name", "cli-start-a", "--label", LABEL, "alpine",
               "sh", "-c", "echo attached start; exit 2")  # fmt: skip
    started = docker_cli("start", "-a", "cli-start-a", check=False)
    assert (started.returncode, started.stdout) == (2, "attached start\n")
    _remove(docker_cli, "cli-start-a")

    docker_cli(
        "create", "--name", "cli-kill", "--label", LABEL, "alpine", "tail", "-f", "/dev/null"
    )
    docker_cli("start", "cli-kill")
    assert docker_cli("inspect", "-f", "{{.State.Running}}", "cli-kill").stdout.strip() == "true"
    docker_cli("kill", "cli-kill")
    assert docker_cli("wait", "cli-kill").stdout.strip() == "137"
    _remove(docker_cli, "cli-kill")

    docker_cli("run", "-d", "--name", "cli-rm-f", "--label", LABEL, "alpine", "sleep", "60")
    _remove(docker_cli, "cli-rm-f", force=True)
    gone = docker_cli("inspect", "cli-rm-f", check=False)
    assert gone.returncode != 0
    assert "No such" in gone.stderr


def test_logs_follow_ends_when_the_container_exits(docker_cli: DockerCli) -> None:
    docker_cli("run", "-d", "--name", "cli-follow", "--label", LABEL, "alpine",
               "sh", "-c", "echo first; sleep 0.5; echo last")  # fmt: skip
    followed = docker_cli("logs", "-f", "cli-follow")
    assert followed.stdout == "first\nlast\n"
    assert docker_cli("wait", "cli-follow").stdout.strip() == "0"
    _remove(docker_cli, "cli-follow")


def test_pull_images_and_an_image_never_pulled(docker_cli: DockerCli) -> None:
    pulled = docker_cli("pull", "alpine:latest")
    assert "alpine:latest" in pulled.stdout
    again = docker_cli("pull", "alpine:latest")
    assert "Image is up to date for alpine:latest" in again.stdout
    listed = docker_cli("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert "alpine:latest" in listed
    ran = docker_cli("run", "--name", "cli-never-pulled", "busybox:1.36", "echo", "ran")
    assert ran.stdout == "ran\n"
    _remove(docker_cli, "cli-never-pulled")
    assert "busybox:1.36" in docker_cli("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
    refused = docker_cli("pull", "registry.invalid/nope:1", check=False)
    assert refused.returncode != 0
    unpullable = docker_cli(
        "run", "--name", "cli-unpullable", "registry.invalid/nope:1", "true", check=False
    )
    assert unpullable.returncode != 0
    assert "CannotPullContainerError" in unpullable.stderr
    _remove(docker_cli, "cli-unpullable")


def test_run_of_a_program_alpine_lacks_exits_127_with_runc_words(docker_cli: DockerCli) -> None:
    # Fargate's alpine has no bash; neither has the simulator's (only the busybox applets).
    done = docker_cli(
        "run", "--name", "cli-no-bash", "--label", LABEL, "alpine:latest",
        "bash", "-c", "echo $BASH_VERSION", check=False,
    )  # fmt: skip
    assert done.returncode == 127, done.stderr
    assert done.stdout == ""
    assert 'exec: "bash": executable file not found in $PATH' in done.stderr
    state = docker_cli("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "cli-no-bash")
    assert state.stdout.split() == ["exited", "127"]
    _remove(docker_cli, "cli-no-bash")


def test_docker_py_core_scenario(sim: SimulatorProcess, docker_cli: DockerCli) -> None:
    client = docker.DockerClient(base_url=f"unix://{sim.info.socket_path}", timeout=20)
    try:
        image = client.images.pull("alpine", tag="latest")
        assert "alpine:latest" in image.tags
        container = client.containers.run(
            "alpine:latest", ["sh", "-c", 'echo "$WHO"; exec tail -f /dev/null'], detach=True,
            name="py-detached", environment={"WHO": "docker-py"}, labels={"suite": "sim-py"},
        )  # fmt: skip
        listed = client.containers.list(filters={"label": "suite=sim-py"})
        assert [c.id for c in listed] == [container.id]
        assert container.exec_run(["echo", "exec"]).output == b"exec\n"
        deadline = time.monotonic() + 10
        while b"docker-py" not in container.logs() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert container.logs() == b"docker-py\n"
        container.stop()
        assert container.wait(timeout=20)["StatusCode"] == 143
        container.remove()
        docker_cli.removed.append(container.id)
        with pytest.raises(docker.errors.ContainerError) as failed:
            client.containers.run("alpine", ["sh", "-c", "exit 4"], name="py-failed")
        assert failed.value.exit_status == 4
        failed_id = client.containers.get("py-failed").id
        client.containers.get("py-failed").remove()
        docker_cli.removed.append(failed_id)
    finally:
        client.close()


def test_aws_side_after_the_scenario(
    docker_cli: DockerCli, ecs: Any, sim: SimulatorProcess
) -> None:
    assert len(docker_cli.removed) >= 8, "the scenario tests above did not run"
    cluster = sim.info.cluster
    deadline = time.monotonic() + 10
    while True:
        arns = ecs.list_tasks(cluster=cluster, desiredStatus="RUNNING")["taskArns"]
        tasks = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []
        running = [t["taskArn"] for t in tasks if t["lastStatus"] == "RUNNING"]
        if not running or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert running == [], "tasks still RUNNING after every container was removed"
    for container_id in docker_cli.removed:
        family = f"sockerless-{container_id[:12]}"
        active = ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")
        inactive = ecs.list_task_definitions(familyPrefix=family, status="INACTIVE")
        assert active["taskDefinitionArns"] == [], family
        assert inactive["taskDefinitionArns"], f"{family}: never registered or not deregistered"
