"""``python -m sockerless_sim --socket PATH ...``: run the embedded Fargate simulator.

Prints one JSON line on stdout once the Docker API answers (the launcher waits for it); logs go
to stderr. SIGTERM or SIGINT shut it down: stop accepting, end open connections, stop the AWS
plane (and with it every task's processes), remove the socket file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from .config import LIES, PROFILES, SimConfig, make_workdir
from .quirks import QUIRK_CHOICES

if TYPE_CHECKING:
    from .aws.plane import AwsPlane
    from .docker_api import DockerApiServer

log = logging.getLogger("sockerless_sim")

# Third-party loggers that would log request bodies at DEBUG (the agent token is in the
# RegisterTaskDefinition body): they never go below WARNING.
_QUIET_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "werkzeug", "moto", "websockets")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line (see ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m sockerless_sim",
        description="Docker Engine API daemon that runs containers as simulated ECS Fargate tasks.",
    )
    parser.add_argument("--socket", dest="socket_path", help="unix socket to serve the API on")
    parser.add_argument(
        "--tcp-port", type=int, help="also serve on 127.0.0.1:PORT (0 picks a free port)"
    )
    parser.add_argument("--profile", choices=PROFILES, help="latency profile (default instant)")
    parser.add_argument("--time-scale", type=float, help="multiply every simulated delay")
    parser.add_argument(
        "--quirk",
        action="append",
        choices=QUIRK_CHOICES,
        default=[],
        help="behave like real sockerless in one more respect, or in every respect observed "
        "with the profile 'sockerless' (repeatable; env SOCKERLESS_SIM_QUIRKS)",
    )
    parser.add_argument(
        "--lie",
        action="append",
        choices=sorted(LIES),
        default=[],
        help="FAULT: claim one AWS effect that did not happen, to prove the kit's AWS checks "
        "catch a lying daemon (repeatable; env SOCKERLESS_SIM_LIES)",
    )
    parser.add_argument("--cluster", help="ECS cluster name (default sockerless-sim)")
    parser.add_argument("--seed", type=int, help="seed for the simulated delays")
    parser.add_argument(
        "--iam-policy",
        metavar="FILE",
        help="IAM mode: check every AWS signature and policy; the kit's IAM user holds only "
        "this policy, its keys go to a 0600 file named in the ready line "
        "(env SOCKERLESS_SIM_IAM_POLICY)",
    )
    parser.add_argument(
        "--workdir",
        metavar="DIR",
        help="where the agents' sockets and logs go, left in place at exit (default: a fresh "
        "temporary directory, removed at exit; the launcher passes one inside its own)",
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("SOCKERLESS_SIM_LOG_LEVEL", "INFO"),
        help="DEBUG logs one line per request (default INFO, env SOCKERLESS_SIM_LOG_LEVEL)",
    )
    parser.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="shut down when stdin closes (the launcher uses this to follow its parent)",
    )
    args = parser.parse_args(argv)
    if args.socket_path is None and args.tcp_port is None:
        parser.error("--socket or --tcp-port is required")
    return args


def configure_logging(level: str) -> None:
    """Log to stderr; keep chatty libraries at WARNING."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT, stream=sys.stderr)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def build_config(args: argparse.Namespace) -> SimConfig:
    """Environment plus command-line overrides."""
    return SimConfig.from_env(
        os.environ,
        socket_path=args.socket_path,
        tcp_port=args.tcp_port,
        profile=args.profile,
        time_scale=args.time_scale,
        quirks=frozenset(args.quirk) if args.quirk else None,
        lies=frozenset(args.lie) if args.lie else None,
        cluster=args.cluster,
        seed=args.seed,
        iam_policy=args.iam_policy,
        workdir=args.workdir,
    )


def ready_info(
    plane: AwsPlane, server: DockerApiServer, lies: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The ready line (contract in docs/architecture.md), plus the TCP port when serving TCP,
    the active lies when there are any (so a report can say its target lies), and in IAM mode
    the kit's user and the file holding its keys (never the keys)."""
    info: dict[str, Any] = {
        "event": "ready",
        "socket_path": server.socket_path,
        "aws_endpoint_url": plane.endpoint_url,
        "region": plane.region,
        "cluster": plane.cluster,
        "subnets": list(plane.subnets),
        "security_groups": list(plane.security_groups),
        "log_group": plane.log_group,
        "pid": os.getpid(),
    }
    if server.tcp_port is not None:
        info["tcp_port"] = server.tcp_port
    if lies:
        info["lies"] = sorted(lies)
    if plane.iam is not None:
        info["iam"] = plane.iam.describe()
    return info


def _watch_stdin(stop: threading.Event) -> None:
    """Set ``stop`` when stdin reaches end-of-file (the launching process went away)."""
    with contextlib.suppress(OSError):
        while os.read(sys.stdin.fileno(), 4096):
            pass
    log.info("stdin closed: shutting down")
    stop.set()


def serve(config: SimConfig, stop: threading.Event) -> int:
    """Start the plane and the API, print the ready line, serve until ``stop`` is set."""
    # Imported here so that --help and argument errors answer without loading moto (~1 s).
    from .aws.plane import AwsPlane  # noqa: PLC0415
    from .docker_api import DockerApi, DockerApiServer  # noqa: PLC0415
    from .workloads import WorkloadRunner  # noqa: PLC0415

    made_workdir = config.workdir is None
    if made_workdir:
        config.workdir = make_workdir()
    workdir = config.work_directory()
    Path(workdir).mkdir(mode=0o700, parents=True, exist_ok=True)  # a given one may not exist yet
    plane = AwsPlane(config, runner_factory=lambda callback: WorkloadRunner(workdir, callback))
    server: DockerApiServer | None = None
    try:
        plane.start()
        api = DockerApi(plane, config)
        server = DockerApiServer(api, socket_path=config.socket_path, tcp_port=config.tcp_port)
        server.start()
        if config.lies:
            log.warning("this daemon LIES about AWS (faults): %s", ", ".join(sorted(config.lies)))
        info = ready_info(plane, server, config.lies)
        api.set_info(info)
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()
        log.info("ready: %s", json.dumps(info))
        while not stop.wait(0.5):
            pass
        log.info("shutting down")
        return 0
    except Exception as exc:
        log.error("simulator failed: %s: %s", type(exc).__name__, exc, exc_info=True)
        return 1
    finally:
        began = time.monotonic()
        if server is not None:
            server.stop()
        plane.stop()
        if made_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        log.info("stopped in %.2f s", time.monotonic() - began)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    configure_logging(args.log_level)
    try:
        config = build_config(args)
    except (ValueError, TypeError) as exc:
        log.error("invalid configuration: %s", exc)
        return 2
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    if args.exit_on_stdin_eof:
        threading.Thread(target=_watch_stdin, args=(stop,), name="stdin-watch", daemon=True).start()
    return serve(config, stop)


def exit_now(code: int) -> None:
    """Flush and leave without the interpreter's finalisation.

    Everything was already shut down by ``serve``; tearing down moto's large in-memory model
    objects at interpreter exit takes seconds and would only delay the parent's ``stop()``.
    """
    logging.shutdown()
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
