"""Stream-decoder benchmark: SockerlessLibrary's MuxDecoder against docker-py's exec-output path.

Run: ``.venv/bin/python benchmarks/mux_benchmark.py`` (``--repeat N``: best of N runs, default 3).

Both sides read the same bytes from a real unix socket, as they do against a daemon, written by
a forked child process (another process, like the daemon, so the writer never competes for our
GIL). The clock runs from the first read (ours: from sending the request) to the decoded result.

* docker-py: its real ``exec_run``/``exec_start`` output path. ``APIClient._read_from_socket``
  takes the ``socket.SocketIO`` under ``http.client``'s buffered reader
  (``_get_raw_response_socket``; for a unix socket that attribute chain yields a ``SocketIO``),
  runs ``docker.utils.socket.frames_iter(sock, tty=False)``, maps frames to data
  (``demux=False``, the default) and joins them with ``consume_socket_output``. We give it a
  ``socket.SocketIO`` over the socketpair. (``demux=True`` is not measured: there
  ``consume_socket_output`` grows ``bytes`` with ``+=`` and goes quadratic on these streams.)
* ours: the library's whole exec start, ``hijack.start_exec``, against a child that answers the
  ``POST /exec/{id}/start`` with ``101 UPGRADED`` and the stream: ``http.client`` reads the head,
  the stream is read from the response's buffer on and fed to ``MuxDecoder``; then ``finish()``
  and the per-stream ``stdout``/``stderr``.

Streams: 64 MiB of 100-byte frames (15 stdout frames, then 1 stderr frame, repeated: a chatty
process) and 64 MiB of 32 KiB frames (the size of one pipe read). Target: at least 5x docker-py
on 100-byte frames (the exit status is 1 when it is missed): per frame the decoder's Python
costs most there. The 32 KiB frames and a strictly alternating stdout/stderr stream of 100-byte
frames are measured for information: with large frames both sides mostly copy memory (ours
copies each payload out of its 256 KiB read and joins them at the end; docker-py reads each
payload into its own buffer), and no suite produces such streams, so no machinery is kept for
them. The machine may be shared, so each figure is the best of ``--repeat`` runs, for both sides
alike.
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "libraries"))

from docker.utils.socket import consume_socket_output, frames_iter

from SockerlessLibrary.hijack import start_exec
from SockerlessLibrary.transport import Timeouts, Transport

STREAM_SIZE = 64 * 1024 * 1024
TARGETS = {100: 5.0, 32 * 1024: None}  # frame size: the least ratio to docker-py, or info
UPGRADED = (
    b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
    b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
)
Reader = Callable[[socket.socket], object]


def build_stream(frame_size: int, stderr_every: int) -> tuple[bytes, tuple[int, int, int]]:
    """The stream and what decoding it must give: (stdout bytes, stderr bytes, frames)."""
    out_frame = struct.pack(">BxxxL", 1, frame_size) + b"o" * frame_size
    err_frame = struct.pack(">BxxxL", 2, frame_size) + b"e" * frame_size
    count = STREAM_SIZE // len(out_frame)
    frames = [err_frame if (i + 1) % stderr_every == 0 else out_frame for i in range(count)]
    errors = sum(1 for frame in frames if frame is err_frame)
    return b"".join(frames), ((count - errors) * frame_size, errors * frame_size, count)


def from_another_process(data: bytes, read: Reader) -> tuple[float, object]:
    """Seconds for ``read`` to consume ``data`` written into a socketpair by a child process."""
    reader, writer = socket.socketpair()
    child = os.fork()
    if child == 0:  # the "daemon": write everything, half-close, exit
        reader.close()
        try:
            writer.sendall(data)
            writer.shutdown(socket.SHUT_WR)
        finally:
            os._exit(0)
    writer.close()
    try:
        started = time.perf_counter()
        result = read(reader)
        elapsed = time.perf_counter() - started
    finally:
        reader.close()
        os.waitpid(child, 0)
    return elapsed, result


def exec_from_another_process(data: bytes) -> tuple[float, object]:
    """Seconds for the library's exec start against a child that answers with ``101`` and
    ``data``; the result is ``(stdout bytes, stderr bytes, frames)``."""
    answer = UPGRADED + data  # the head and the first frames in one write, as daemons do
    with tempfile.TemporaryDirectory(prefix="mux-bench-") as directory:
        path = str(Path(directory) / "daemon.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(1)
        child = os.fork()
        if child == 0:  # the "daemon": read the request head, answer, half-close, exit
            try:
                connection, _ = listener.accept()
                request = b""
                while b"\r\n\r\n" not in request:
                    request += connection.recv(65536)
                connection.sendall(answer)
                connection.shutdown(socket.SHUT_WR)
            finally:
                os._exit(0)
        listener.close()
        transport = Transport(path, timeouts=Timeouts(5, 120))
        try:
            started = time.perf_counter()
            output = start_exec(transport, "benchmark").output
            elapsed = time.perf_counter() - started
        finally:
            os.waitpid(child, 0)
    return elapsed, (len(output.stdout), len(output.stderr), len(output.frames))


def docker_py(sock: socket.socket) -> object:
    """docker-py's ``_read_from_socket(response, stream=False, tty=False, demux=False)``."""
    raw = socket.SocketIO(sock, "rb")
    return consume_socket_output((data for _, data in frames_iter(raw, False)), demux=False)


def best_rate(
    data: bytes,
    run: Callable[[bytes], tuple[float, object]],
    repeat: int,
    check: Callable[[object], bool],
) -> float:
    """MB/s of the fastest of ``repeat`` runs; exits if a run decoded the wrong thing."""
    fastest = float("inf")
    for _ in range(repeat):
        seconds, result = run(data)
        if not check(result):
            raise SystemExit(f"a run decoded the stream wrongly: {result!r:.200}")
        fastest = min(fastest, seconds)
    return len(data) / fastest / 1e6


def compare(frame_size: int, stderr_every: int, repeat: int) -> tuple[float, float]:
    """``(ours MB/s, docker-py MB/s)`` on one stream."""
    data, expected = build_stream(frame_size, stderr_every)
    ours_rate = best_rate(
        data, exec_from_another_process, repeat, lambda result: result == expected
    )
    docker_rate = best_rate(
        data,
        lambda stream: from_another_process(stream, docker_py),
        repeat,
        lambda result: isinstance(result, bytes) and len(result) == expected[0] + expected[1],
    )
    return ours_rate, docker_rate


def report(label: str, ours_rate: float, docker_rate: float, target: float | None) -> bool:
    """Print one row; False when its target is missed."""
    ratio = ours_rate / docker_rate
    verdict = "info" if target is None else ("ok" if ratio >= target else "MISSED")
    wanted = "" if target is None else f"{target:.1f}x"
    print(f"{label:>24} {ours_rate:10.1f} {docker_rate:15.1f} {ratio:7.1f}x {wanted:>7} {verdict}")
    return target is None or ratio >= target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    repeat = parser.parse_args().repeat
    print(f"{'64 MiB stream':>24} {'ours MB/s':>10} {'docker-py MB/s':>15} {'ratio':>8} target")
    ok = True
    for frame_size, target in TARGETS.items():
        ours_rate, docker_rate = compare(frame_size, 16, repeat)
        ok = report(f"{frame_size}-byte frames", ours_rate, docker_rate, target) and ok
    ours_rate, docker_rate = compare(100, 2, repeat)
    report("100-byte, alternating", ours_rate, docker_rate, None)
    print("all targets met" if ok else "FAILED: a target was missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
