"""``python -m sockerless_sim.agent --socket PATH [--log-file F] -- argv...``

The simulator's stand-in for ``/sockerless-agent``: runs ``argv`` as the task's main process on
this host (there is no image filesystem, so ``tail -f /dev/null``, ``echo``, ``sh -c "exit 7"``
and ``sleep N`` behave as on the host; with ``--programs DIR`` the PATH of the main process and
of every exec reaches only that directory, the image's programs), serves exec/attach over a
WebSocket on a unix socket, and exits with the main process's exit code. The token comes from
``SOCKERLESS_AGENT_TOKEN`` (never from the command line, never logged).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

from .protocol import TOKEN_ENV, ProtocolError, parse_signal
from .supervisor import Agent, AgentOptions


def _env_assignment(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _signal(text: str) -> int:
    try:
        return parse_signal(text)
    except ProtocolError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _size(text: str) -> tuple[int, int]:
    rows, sep, columns = text.partition("x")
    if not sep or not rows.isdigit() or not columns.isdigit():
        raise argparse.ArgumentTypeError(f"expected ROWSxCOLUMNS, got {text!r}")
    return int(rows), int(columns)


def parse_args(argv: Sequence[str]) -> AgentOptions:
    """Options from the command line (everything after ``--`` is the main command)."""
    parser = argparse.ArgumentParser(
        prog="python -m sockerless_sim.agent", description="sockerless simulator task agent"
    )
    parser.add_argument("--socket", required=True, help="unix socket to serve on")
    parser.add_argument("--log-file", help="agent log (default: discarded)")
    parser.add_argument(
        "--open-stdin",
        action="store_true",
        help="give the main process a stdin pipe fed by attach sessions (default: /dev/null)",
    )
    parser.add_argument("--control-fd", type=int, help="runner control socket (inherited fd)")
    parser.add_argument(
        "--unset-env",
        action="append",
        default=[],
        metavar="NAME",
        help="drop NAME from the environment of the main process and execs",
    )
    parser.add_argument(
        "--set-env",
        action="append",
        default=[],
        type=_env_assignment,
        metavar="NAME=VALUE",
        help="set NAME for the main process and execs",
    )
    parser.add_argument(
        "--workdir", help="working directory of the main process and the default of execs"
    )
    parser.add_argument(
        "--user", help="name|uid[:group|gid] of the main process and the default of execs"
    )
    parser.add_argument(
        "--stop-signal",
        type=_signal,
        default=int(signal.SIGTERM),
        help="what a stop (SIGTERM to the agent) delivers to the main process",
    )
    parser.add_argument(
        "--tty", action="store_true", help="run the main process on a pseudo-terminal"
    )
    parser.add_argument(
        "--console-size", type=_size, default=(0, 0), help="ROWSxCOLUMNS of that terminal"
    )
    parser.add_argument(
        "--programs",
        metavar="DIR",
        help="the image's program directory: the only one the PATH of the main process and "
        "execs reaches (default: the PATH as it is)",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- argv of the main process")
    args = parser.parse_args(argv)
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        parser.error("no main command given after --")
    return AgentOptions(
        socket_path=args.socket,
        argv=command,
        token=os.environ.get(TOKEN_ENV) or None,
        log_file=args.log_file,
        open_stdin=args.open_stdin,
        control_fd=args.control_fd,
        child_env_unset=tuple(args.unset_env),
        child_env_set=dict(args.set_env),
        workdir=args.workdir or None,
        user=args.user or None,
        stop_signal=args.stop_signal,
        terminal=args.console_size if args.tty else None,
        programs=args.programs or None,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the agent and exit with the main process's exit code."""
    options = parse_args(sys.argv[1:] if argv is None else argv)
    code = Agent(options).run()
    logging.shutdown()
    # Skip interpreter teardown: it would join non-daemon library threads of closed connections.
    os._exit(code)


if __name__ == "__main__":
    main()
