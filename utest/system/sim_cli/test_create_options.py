"""Create options through the real Docker CLI: each honoured one has its effect, each refused one
fails with its message, each reported one prints its warning (simulator/README.md, "Create
options"). Every ``docker`` command is bounded (``COMMAND_TIMEOUT``).
"""

from __future__ import annotations

import os
import time

import pytest
from cli_helpers import DockerCli

LABEL = "suite=sim-cli-options"
AS_ROOT = os.geteuid() == 0
# A stop that the option shortens to about 1 s (the default grace is 30 s), with room for a
# loaded machine.
STOP_BOUND = 15.0


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


def test_run_i_delivers_stdin_the_same_way_twenty_times_in_a_row(docker_cli: DockerCli) -> None:
    results = set()
    for _ in range(20):
        done = docker_cli("run", "-i", "--rm", "--label", LABEL, "alpine", "cat",
                          input_text="piped\n", check=False)  # fmt: skip
        results.add((done.returncode, done.stdout, done.stderr))
    assert results == {(0, "piped\n", "")}


def test_stdin_the_command_does_not_read_ends_cleanly(docker_cli: DockerCli) -> None:
    """Unread stdin once reset the connection: ``read: connection reset by peer``, rc 1."""
    name = "cli-unread-stdin"
    try:
        docker_cli("run", "-d", "--name", name, "--label", LABEL, "alpine",
                   "tail", "-f", "/dev/null")  # fmt: skip
        for _ in range(5):
            fast = docker_cli("run", "-i", "--rm", "--label", LABEL, "alpine", "echo", "fast",
                              input_text="never read\n", check=False)  # fmt: skip
            assert (fast.returncode, fast.stdout, fast.stderr) == (0, "fast\n", "")
            exec_done = docker_cli("exec", "-i", name, "true", input_text="never read\n",
                                   check=False)  # fmt: skip
            assert (exec_done.returncode, exec_done.stderr) == (0, "")
    finally:
        _cleanup(docker_cli, name)


def test_without_i_the_command_reads_no_stdin(docker_cli: DockerCli) -> None:
    done = docker_cli("run", "--rm", "--label", LABEL, "alpine", "cat", input_text="dropped\n")
    assert done.stdout == ""


def test_kill_answers_once_the_container_is_dead(docker_cli: DockerCli) -> None:
    name = "cli-kill-truth"
    try:
        docker_cli("run", "-d", "--name", name, "--label", LABEL, "alpine",
                   "tail", "-f", "/dev/null")  # fmt: skip
        docker_cli("kill", name)
        state = docker_cli("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name)
        assert state.stdout == "exited 137\n"  # the first inspect after kill, no polling
        docker_cli("start", name)  # a new task, not a 304 for the dying one
        assert docker_cli("inspect", "-f", "{{.State.Running}}", name).stdout == "true\n"
    finally:
        _cleanup(docker_cli, name)


@pytest.mark.parametrize(("signal_name", "code"), [("TERM", 143), ("USR1", 138), ("KILL", 137)])
def test_a_command_killed_by_a_signal_exits_128_plus_its_number(
    docker_cli: DockerCli, signal_name: str, code: int
) -> None:
    done = docker_cli("run", "--rm", "--label", LABEL, "alpine", "sh", "-c",
                      f"kill -{signal_name} $$", check=False)  # fmt: skip
    assert done.returncode == code, done.stderr


def test_stop_sends_the_stop_signal(docker_cli: DockerCli) -> None:
    name = "cli-stop-signal"
    script = 'trap "echo got USR1; exit 0" USR1; trap "" TERM; while :; do sleep 0.05; done'
    try:
        docker_cli("run", "-d", "--name", name, "--label", LABEL, "--stop-signal", "SIGUSR1",
                   "alpine", "sh", "-c", script)  # fmt: skip
        began = time.monotonic()
        docker_cli("stop", name)
        assert time.monotonic() - began < STOP_BOUND  # without it: SIGTERM is ignored, 30 s
        assert docker_cli("inspect", "-f", "{{.State.ExitCode}}", name).stdout == "0\n"
        assert docker_cli("logs", name).stdout == "got USR1\n"
        shown = docker_cli("inspect", "-f", "{{.Config.StopSignal}}", name).stdout
        assert shown == "SIGUSR1\n"
    finally:
        _cleanup(docker_cli, name)


def test_stop_timeout_is_the_grace_before_sigkill(docker_cli: DockerCli) -> None:
    name = "cli-stop-timeout"
    try:
        docker_cli("run", "-d", "--name", name, "--label", LABEL, "--stop-timeout", "1",
                   "alpine", "sh", "-c", 'trap "" TERM; while :; do sleep 0.05; done')  # fmt: skip
        began = time.monotonic()
        docker_cli("stop", name)
        elapsed = time.monotonic() - began
        assert 1.0 <= elapsed < STOP_BOUND, elapsed  # the default grace is 30 s
        assert docker_cli("inspect", "-f", "{{.State.ExitCode}}", name).stdout == "137\n"
    finally:
        _cleanup(docker_cli, name)


def test_rm_removes_the_container_once_it_exited(docker_cli: DockerCli) -> None:
    done = docker_cli("run", "--rm", "--name", "cli-auto-remove", "--label", LABEL, "alpine",
                      "sh", "-c", "echo bye; exit 5", check=False)  # fmt: skip
    assert (done.returncode, done.stdout) == (5, "bye\n")
    gone = docker_cli("inspect", "cli-auto-remove", check=False)
    assert "No such object: cli-auto-remove" in gone.stderr  # the CLI tried image, too


def test_t_runs_the_command_on_a_terminal(docker_cli: DockerCli) -> None:
    done = docker_cli("run", "-t", "--rm", "--label", LABEL, "alpine", "sh", "-c",
                      "tty -s && echo on a terminal; echo to stderr >&2")  # fmt: skip
    # One stream (stderr too); text mode reads the terminal's "\r\n" as "\n".
    assert (done.stdout, done.stderr) == ("on a terminal\nto stderr\n", "")
    plain = _run(docker_cli, "alpine", "sh", "-c", "tty -s || echo no terminal")
    assert plain == "no terminal\n"
