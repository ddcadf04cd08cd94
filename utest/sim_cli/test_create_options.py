"""Create options through the real Docker CLI: each honoured one has its effect, each refused one
fails with its message, each reported one prints its warning (simulator/README.md, "Create
options"). Every ``docker`` command is bounded (``COMMAND_TIMEOUT``).
"""

from __future__ import annotations

import os

import pytest
from cli_helpers import DockerCli

LABEL = "suite=sim-cli-options"
AS_ROOT = os.geteuid() == 0


def _run(cli: DockerCli, *args: str, check: bool = True) -> str:
    """``docker run --rm`` with the suite's label; its stdout."""
    return cli("run", "--rm", "--label", LABEL, *args, check=check).stdout


def _refused(cli: DockerCli, *args: str) -> str:
    """``docker run`` that the daemon must refuse; the CLI's stderr."""
    done = cli("run", "--rm", "--label", LABEL, *args, check=False)
    assert done.returncode == 125, (done.returncode, done.stdout, done.stderr)
    assert "Error response from daemon" in done.stderr
    return done.stderr


def _cleanup(cli: DockerCli, name: str) -> None:
    cli("rm", "-f", name, check=False)


def test_workdir_sets_the_directory_of_the_command_and_of_its_execs(docker_cli: DockerCli) -> None:
    assert _run(docker_cli, "-w", "/tmp", "alpine", "pwd") == "/tmp\n"
    name = "cli-workdir"
    try:
        docker_cli("run", "-d", "--name", name, "--label", LABEL, "-w", "/tmp", "alpine",
                   "tail", "-f", "/dev/null")  # fmt: skip
        assert docker_cli("exec", name, "pwd").stdout == "/tmp\n"
        assert docker_cli("exec", "-w", "/usr", name, "pwd").stdout == "/usr\n"
        assert docker_cli("inspect", "-f", "{{.Config.WorkingDir}}", name).stdout == "/tmp\n"
    finally:
        _cleanup(docker_cli, name)


def test_workdir_that_is_relative_or_missing_is_refused(docker_cli: DockerCli) -> None:
    assert "needs to be an absolute path" in _refused(docker_cli, "-w", "tmp", "alpine", "pwd")
    missing = _refused(docker_cli, "-w", "/no/such/dir", "alpine", "pwd")
    assert "Config.WorkingDir is not supported by the embedded simulator" in missing
    assert "/no/such/dir is not a directory on this host" in missing


@pytest.mark.skipif(not AS_ROOT, reason="switching users needs the simulator to run as root")
def test_user_runs_the_command_and_its_execs_as_that_user(docker_cli: DockerCli) -> None:
    assert _run(docker_cli, "-u", "1234", "alpine", "id", "-u") == "1234\n"
    assert _run(docker_cli, "-u", "1234:5678", "alpine", "id", "-g") == "5678\n"
    assert _run(docker_cli, "-u", "nobody", "alpine", "id", "-un") == "nobody\n"
    name = "cli-user"
    try:
        docker_cli("run", "-d", "--name", name, "--label", LABEL, "-u", "1234", "alpine",
                   "tail", "-f", "/dev/null")  # fmt: skip
        assert docker_cli("exec", name, "id", "-u").stdout == "1234\n"
        assert docker_cli("exec", "-u", "0", name, "id", "-u").stdout == "0\n"
    finally:
        _cleanup(docker_cli, name)


@pytest.mark.skipif(AS_ROOT, reason="as root the simulator can switch to any user")
def test_user_needs_a_root_simulator(docker_cli: DockerCli) -> None:
    refused = _refused(docker_cli, "-u", "1234", "alpine", "id", "-u")
    assert "needs the simulator to run as root" in refused


def test_user_unknown_on_this_host_is_refused(docker_cli: DockerCli) -> None:
    refused = _refused(docker_cli, "-u", "no-such-user", "alpine", "id")
    assert "unable to find user no-such-user: no matching entries in passwd file" in refused


def test_entrypoint_replaces_and_an_empty_one_resets(docker_cli: DockerCli) -> None:
    assert _run(docker_cli, "--entrypoint", "echo", "alpine", "one", "two") == "one two\n"
    assert _run(docker_cli, "--entrypoint", "", "alpine", "echo", "reset") == "reset\n"


def test_env_reaches_the_command_and_its_execs(docker_cli: DockerCli) -> None:
    printed = _run(docker_cli, "-e", "GREETING=hello world", "-e", "EMPTY=", "alpine",
                   "sh", "-c", 'echo "$GREETING|${EMPTY-unset}|${NOT_SET-unset}"')  # fmt: skip
    assert printed == "hello world||unset\n"
    name = "cli-env"
    try:
        docker_cli("run", "-d", "--name", name, "--label", LABEL, "-e", "FROM_RUN=1", "alpine",
                   "tail", "-f", "/dev/null")  # fmt: skip
        both = docker_cli("exec", "-e", "FROM_EXEC=2", name, "sh", "-c",
                          'echo "$FROM_RUN $FROM_EXEC"')  # fmt: skip
        assert both.stdout == "1 2\n"
    finally:
        _cleanup(docker_cli, name)


def test_binds_and_other_networks_are_refused_naming_the_field(docker_cli: DockerCli) -> None:
    binds = _refused(docker_cli, "-v", "/etc:/host-etc", "alpine", "true")
    assert "HostConfig.Binds is not supported by the embedded simulator" in binds
    network = _refused(docker_cli, "--network", "host", "alpine", "true")
    assert "HostConfig.NetworkMode is not supported by the embedded simulator" in network


def test_options_without_effect_are_reported_as_warnings(docker_cli: DockerCli) -> None:
    done = docker_cli("run", "--rm", "--label", LABEL, "-p", "8080:80", "--cap-add", "NET_ADMIN",
                      "--health-cmd", "true", "alpine", "echo", "ran")  # fmt: skip
    assert done.stdout == "ran\n"
    for field in ("HostConfig.PortBindings", "Config.ExposedPorts", "HostConfig.CapAdd",
                  "Config.Healthcheck"):  # fmt: skip
        assert f"WARNING: {field} is accepted but has no effect on the embedded simulator" in (
            done.stderr
        ), done.stderr
    plain = docker_cli("run", "--rm", "--label", LABEL, "alpine", "true")
    assert "WARNING" not in plain.stderr


def test_endpoints_it_does_not_implement_say_so(docker_cli: DockerCli) -> None:
    name = "cli-unsupported"
    try:
        docker_cli("run", "-d", "--name", name, "--label", LABEL, "alpine",
                   "tail", "-f", "/dev/null")  # fmt: skip
        for command, route in (("restart", "POST"), ("top", "GET")):
            done = docker_cli(command, name, check=False)
            assert done.returncode == 1
            expected = f"{route} /v1.44/containers/{name}/{command} is not supported by the"
            assert f"{expected} embedded simulator" in done.stderr, done.stderr
        missing = docker_cli("restart", "no-such-container-here", check=False)
        assert "is not supported by the embedded simulator" in missing.stderr
    finally:
        _cleanup(docker_cli, name)
