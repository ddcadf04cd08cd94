"""Peak memory of reading a container's huge logs: in robot (the kit) and in the simulator.

Run: ``.venv/bin/python benchmarks/log_memory.py`` (``--megabytes N``: how much the container
writes, default 200; ``--line-bytes N``: the length of each line, default 100).

One simulator (``instant`` profile) serves every read, as an external target (``SOCKERLESS_HOST``
plus its AWS endpoint). This script creates a container (with the library's ``DockerClient``,
so no robot run cleans it up) that runs ``yes <line> | head -c <N MB>; echo the-end``, starts
it and waits until it exited; its output goes to the simulator's CloudWatch (moto, in the
simulator's process). Each read is then one ``robot`` run of a one-keyword suite, in its own
process, in this order:

* ``wait``: ``Wait Until Logs Contain Line    <id>    the-end`` (follow; holds the last
  ``log_wait.KEEP_BYTES`` of output);
* ``get``: ``Get Container Logs    <id>`` (returns every line: memory grows with the logs).

Printed: the simulator's peak RSS once the output was written (``VmHWM``, from ``/proc``), then
per read the robot process's peak RSS (``ru_maxrss`` of a wrapper that only waits for it), its
wall time and exit status, and the simulator's peak RSS after it. Linux only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "simulator"))
sys.path.insert(0, str(ROOT / "libraries"))

from sockerless_sim.launcher import SimulatorProcess  # noqa: E402 - after the path set-up
from SockerlessLibrary.client import DockerClient  # noqa: E402
from SockerlessLibrary.transport import Timeouts, Transport  # noqa: E402

ROBOT = Path(sys.executable).with_name("robot")
LAST_LINE = "the-end"
SUITE = """\
*** Settings ***
Library    SockerlessLibrary

*** Test Cases ***
Read
    {read}
"""
READS = {
    "wait": f"Wait Until Logs Contain Line    {{id}}    {LAST_LINE}    timeout=1200s",
    "get": "Get Container Logs    {id}    timeout=1200s",
}
MEASURED = (
    "import resource, subprocess, sys, time; began = time.monotonic(); "
    "code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
    "time.monotonic() - began, code)"
)


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def robot_run(read: str, suite: Path, out: Path, env: dict[str, str]) -> tuple[int, float, int]:
    """Peak RSS (KiB), seconds and exit status of one ``robot`` process."""
    command = [
        sys.executable, "-c", MEASURED,
        str(ROBOT), "--outputdir", str(out / read), "--log", "NONE", "--report", "NONE",
        str(suite),
    ]  # fmt: skip
    answer = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    peak, seconds, code = answer.stdout.split()[-3:]
    return int(peak), float(seconds), int(code)


def write_logs(client: DockerClient, megabytes: int, line_bytes: int) -> str:
    """Create and start the writing container; return its ID once it exited."""
    line = "x" * (line_bytes - 1)  # yes adds the newline
    script = f'yes "{line}" | head -c {megabytes * 1_000_000}; echo {LAST_LINE}'
    body = {"Image": "alpine:latest", "Cmd": ["sh", "-c", script]}
    container_id = str(client.create_container_from_body(body)["Id"])
    client.start_container(container_id)
    deadline = time.monotonic() + 1200
    while client.inspect_container(container_id)["State"]["Running"]:
        if time.monotonic() > deadline:
            raise TimeoutError("the writing container did not exit within 20 minutes")
        time.sleep(1)
    return container_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--line-bytes", type=int, default=100)
    parser.add_argument("--keep", metavar="DIR", help="write the robot outputs here, and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kit-log-memory-") as scratch:
        out = Path(args.keep or scratch)
        simulator = SimulatorProcess.start(ready_timeout=30.0)
        pid = simulator.info.pid
        client = DockerClient(
            Transport(f"unix://{simulator.info.socket_path}", timeouts=Timeouts(5, 60))
        )
        try:
            env = {**os.environ, **simulator.info.target_environment()}
            env["SOCKERLESS_KIT_JOURNAL_DIR"] = str(out / "journal")
            env["PYTHONPATH"] = str(ROOT / "libraries")
            began = time.monotonic()
            container_id = write_logs(client, args.megabytes, args.line_bytes)
            print(
                f"wrote {args.megabytes} MB in {args.line_bytes}-byte lines in "
                f"{time.monotonic() - began:.0f} s; simulator peak RSS "
                f"{status_kib(pid, 'VmHWM') / 1024:.0f} MiB"
            )
            for read, keyword in READS.items():
                suite = out / f"{read}.robot"
                suite.write_text(SUITE.format(read=keyword.format(id=container_id)))
                peak, seconds, code = robot_run(read, suite, out, env)
                print(
                    f"{read}: robot peak RSS {peak / 1024:.0f} MiB, {seconds:.1f} s, exit {code}; "
                    f"simulator peak RSS {status_kib(pid, 'VmHWM') / 1024:.0f} MiB"
                )
            client.remove_container(container_id, force=True)
        finally:
            client.close()
            simulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
