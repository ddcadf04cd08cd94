"""Exec keywords: create, start (hijacked stream), inspect, wait, exit code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from robot.api.deco import keyword

from ..arguments import ArgumentError, parse_expected_status, seconds
from ..capping import cap_output, show_line
from ..client import ExecStream
from ..listeners.log import log
from ..polling import Poller, PollTimeout, poll_until
from ..run.agent_token import learn_agent_token
from . import LibraryComponent


@dataclass(frozen=True)
class ProcessResult:
    """What `Run Process In Container` returns: the Process library's result, for an exec."""

    exec_id: str
    rc: int
    stdout: str
    stderr: str

    @property
    def stdout_lines(self) -> list[str]:
        """``stdout`` split into lines."""
        return self.stdout.splitlines()

    @property
    def stderr_lines(self) -> list[str]:
        """``stderr`` split into lines."""
        return self.stderr.splitlines()

    def __str__(self) -> str:
        """Short, with the output cut: Robot logs a returned value this way (and its repr at
        TRACE), building the whole text before it cuts it."""
        return (
            f"<result rc={self.rc} stdout={show_line(self.stdout)} stderr={show_line(self.stderr)}>"
        )

    __repr__ = __str__


def _describe_exec(inspect: dict[str, Any]) -> str:
    return json.dumps({key: inspect.get(key) for key in ("Running", "ExitCode", "Pid")})


class ExecKeywords(LibraryComponent):
    """Commands run inside a running container (through sockerless' in-task agent)."""

    @keyword(tags=("Exec",))
    def create_exec(
        self,
        container_id: str,
        *command: str,
        env: dict[str, str] | list[str] | None = None,
        working_dir: str | None = None,
        tty: bool = False,
        expected_status: int | str = 201,
        attach_stdin: bool = False,
        user: str | None = None,
    ) -> str | None:
        """Creates an exec instance (``POST /containers/{id}/exec``) and returns its ID.

        | =Arguments= | =Description= |
        | ``*command`` | The command, one argument per cell (sent as a list). |
        | ``env`` | Environment as a dictionary or a list of ``KEY=value`` (see below). |
        | ``working_dir`` | Working directory (default: the container's ``working_dir``). |
        | ``tty`` | Allocate a TTY. |
        | ``expected_status`` | See `Expected status`; ``409``: container not running. |
        | ``attach_stdin`` | Give the command a stdin (``AttachStdin``) for `Start Exec` to fill. |
        | ``user`` | ``User`` to run the command as. |

        ``env`` follows the rule of `Create Container`'s: values are sent as text, a
        ``${NONE}`` value is refused, a list item must read ``KEY=value``.

        Docker (and sockerless) drop what `Start Exec` sends as ``stdin`` unless the exec was
        created with ``attach_stdin=${TRUE}``; with it, the command reads that text and then end
        of file. A ``name=value`` that is not one of these options fails, naming the valid
        ones (see `Options`); a command word that contains ``=`` is written with each ``=``
        escaped: ``FOO\\=bar``. To run a command and get its exit code and output in one step,
        use `Run Process In Container`.

        Example:
        | ${exec_id}= | Create Exec | ${id} | echo | exec-works |
        | ${exec_id}= | Create Exec | ${id} | sh | -c | exit 7 |
        | ${exec_id}= | Create Exec | ${id} | cat | attach_stdin=${TRUE} |
        """
        if not command:
            raise ArgumentError(
                "Create Exec needs a command, e.g. 'Create Exec    ${id}    echo    hi'"
            )
        exec_id = self.client.create_exec(
            container_id,
            list(command),
            env=env,
            workdir=working_dir,
            tty=tty,
            attach_stdin=attach_stdin,
            expected=parse_expected_status(expected_status),
            user=user,
        )
        if exec_id:
            self.ctx.attach_stdin_by_exec[exec_id] = attach_stdin
            learn_agent_token(self.ctx, container_id)  # before the kit shows its output
        log(f"Created exec {exec_id} in {container_id}: {list(command)}")
        return str(exec_id) if exec_id else None

    @keyword(tags=("Exec",))
    def start_exec(
        self,
        exec_id: str,
        *,
        stdin: str | None = None,
        tty: bool = False,
        timeout: timedelta | None = None,
    ) -> ExecStream:
        """Starts the exec (``POST /exec/{id}/start``, hijacked) and reads its output to the end.

        | =Arguments= | =Description= |
        | ``stdin`` | Text for the command's stdin, then end of file (needs ``attach_stdin``). |
        | ``tty`` | Must match the exec's ``tty``. |
        | ``timeout`` | Read deadline for the whole stream. Default: ``exec_timeout`` (90 s). |

        Returns an ``ExecStream``: ``status`` (101 or 200), ``reason``, ``headers`` and
        ``output`` (``output.frames``, ``output.stdout``/``output.stderr`` as bytes,
        ``output.text(stream)``, ``output.lines(stream)``). Use it with
        `Output Should Contain Line`, `Get Output Lines` or `Stream Should Be Multiplexed`.
        The stream is returned whole, so memory grows with the command's output; the log
        shows it capped (each line after 1,000 characters, the whole after 20,000).

        Example:
        | ${stream}= | Start Exec | ${exec_id} | |
        | Output Should Contain Line | ${stream} | exec-works |
        | ${stream}= | Start Exec | ${exec_id} | stdin=hello |
        """
        if stdin is not None and self.ctx.attach_stdin_by_exec.get(exec_id) is False:
            raise ArgumentError(
                f"Exec {exec_id} was created without attach_stdin=${{TRUE}}, so the daemon "
                f"would drop its stdin: create it with 'Create Exec    ${{id}}    <command>    "
                f"attach_stdin=${{TRUE}}'"
            )
        stream = self.client.start_exec(
            exec_id,
            stdin=None if stdin is None else stdin.encode(),
            tty=tty,
            timeout=self.ctx.timeouts(read=seconds(timeout, self.ctx.settings.exec_timeout)),
        )
        output = stream.output
        log(
            f"Exec {exec_id} stream: {len(output.frames)} frame(s), "
            f"{len(output.stdout)} stdout byte(s), {len(output.stderr)} stderr byte(s)"
        )
        log(f"stdout:\n{cap_output(output.stdout)}")
        if output.stderr:
            log(f"stderr:\n{cap_output(output.stderr)}")
        return stream

    @keyword(tags=("Exec",))
    def run_process_in_container(
        self,
        container_id: str,
        *command: str,
        env: dict[str, str] | list[str] | None = None,
        working_dir: str | None = None,
        user: str | None = None,
        stdin: str | None = None,
        timeout: timedelta | None = None,
    ) -> ProcessResult:
        """Runs ``command`` in the running container and returns its result, like the Process
        library's ``Run Process``: ``rc``, ``stdout`` and ``stderr``.

        | =Arguments= | =Description= |
        | ``*command`` | The command, one argument per cell. |
        | ``env`` | More environment: a dictionary or a list of ``KEY=value``. |
        | ``working_dir`` | Working directory (default: the container's ``working_dir``). |
        | ``user`` | User to run it as. |
        | ``stdin`` | Text for the command's stdin, followed by end of file. |
        | ``timeout`` | How long the command may run. Default: ``exec_timeout`` (90 s). |

        The command sees the container's own environment plus ``env``. It is an exec (create,
        start, and ``GET /exec/{id}/json`` once it reports ``Running: false``), through
        sockerless' agent in the Fargate task. The result has
        ``rc`` (the exit code), ``stdout`` and ``stderr`` (text, one trailing newline removed,
        as ``Run Process`` does), ``stdout_lines``/``stderr_lines`` and ``exec_id``: the whole
        output, so memory grows with it (the log shows it capped). It does not fail on a
        non-zero ``rc``: assert what the test expects. A ``name=value`` that is not one of the
        options above fails, naming the valid ones (see `Options`).

        Example:
        | ${result}= | Run Process In Container | ${id} | sh | -c | echo "$FOO"; pwd |
        | Should Be Equal | ${result.stdout} | bar\\n/tmp | msg=stdout |
        | ${result}= | Run Process In Container | ${id} | sh | -c | exit 3 |
        | Should Be Equal As Integers | ${result.rc} | 3 | |
        | ${result}= | Run Process In Container | ${id} | cat | stdin=hello |
        """
        exec_id = self.create_exec(
            container_id,
            *command,
            env=env,
            working_dir=working_dir,
            user=user,
            attach_stdin=stdin is not None,
        )
        if not exec_id:
            raise AssertionError(f"Exec create in {container_id} answered without an exec ID")
        budget = seconds(timeout, self.ctx.settings.exec_timeout)
        stream = self.start_exec(exec_id, stdin=stdin, timeout=timedelta(seconds=budget))
        try:
            inspect = self.wait_until_exec_finishes(exec_id, timeout=timedelta(seconds=budget))
        except PollTimeout as error:
            raise AssertionError(
                f"The process {list(command)} in {container_id} did not finish within "
                f"{budget:g} s, so it has no exit code: {error}"
            ) from None
        code = inspect.get("ExitCode")
        if not isinstance(code, int):
            raise AssertionError(
                f"Exec {exec_id} finished without an exit code: {_describe_exec(inspect)}"
            )
        # As ``Run Process`` gives output: one trailing newline removed.
        stdout, stderr = (
            stream.output.text(name).removesuffix("\n").removesuffix("\r")
            for name in ("stdout", "stderr")
        )
        result = ProcessResult(exec_id, code, stdout, stderr)
        log(f"Process {list(command)} in {container_id}: rc {result.rc}")
        return result

    @keyword(tags=("Exec",))
    def inspect_exec(self, exec_id: str) -> dict[str, Any]:
        """Returns ``GET /exec/{id}/json`` (``Running``, ``ExitCode``, ``Pid``...) as a dictionary.

        Example:
        | ${info}= | Inspect Exec | ${exec_id} |
        | Should Not Be True | ${info}[Running] |
        """
        body = dict(self.client.inspect_exec(exec_id))
        log(f"Exec {exec_id}: {_describe_exec(body)}")
        return body

    @keyword(tags=("Exec", "Wait"))
    def wait_until_exec_finishes(
        self,
        exec_id: str,
        *,
        timeout: timedelta | None = None,
        interval: timedelta = timedelta(seconds=0.2),
    ) -> dict[str, Any]:
        """Polls ``GET /exec/{id}/json`` until ``Running`` is false; returns that inspect.

        ``ExitCode`` is only meaningful once ``Running`` is false (it can be 0 or null before).
        ``timeout`` defaults to ``exec_timeout`` (90 s).

        Example:
        | ${info}= | Wait Until Exec Finishes | ${exec_id} | timeout=30s |
        """
        poller: Poller[dict[str, Any]] = Poller(
            probe=lambda: dict(self.client.inspect_exec(exec_id)),
            done=lambda inspect: inspect.get("Running") is False,
            describe=_describe_exec,
        )
        return poll_until(
            poller,
            what=f"Exec {exec_id} finished",
            timeout=seconds(timeout, self.ctx.settings.exec_timeout),
            interval=seconds(interval, 0.2, name="interval"),
            max_interval=2.0,
            log=log,
        )

    @keyword(tags=("Exec",))
    def exec_should_have_exited_with_code(self, exec_id: str, exit_code: int) -> None:
        """Waits until the exec has finished (`Wait Until Exec Finishes`), then fails unless
        ``GET /exec/{id}/json`` reports ``ExitCode`` ``exit_code``: the exec counterpart of
        `Container Should Have Exited With Code`.

        The failure message shows the whole exec inspect, e.g. ``Exec <id> exit code is 0,
        expected 7; exec inspect: {...}``.

        Example:
        | ${exec_id}= | Create Exec | ${id} | sh | -c | exit 7 |
        | Start Exec | ${exec_id} | | | |
        | Exec Should Have Exited With Code | ${exec_id} | 7 | | |
        """
        try:
            inspect = self.wait_until_exec_finishes(exec_id)
        except PollTimeout as error:
            raise AssertionError(
                f"Exec {exec_id} did not finish, so its exit code is unknown: {error}"
            ) from None
        actual = inspect.get("ExitCode")
        if actual is None or int(actual) != int(exit_code):
            raise AssertionError(
                f"Exec {exec_id} exit code is {actual}, expected {exit_code}; "
                f"exec inspect: {json.dumps(inspect)}"
            )
        log(f"Exec {exec_id} exited with {actual}")
