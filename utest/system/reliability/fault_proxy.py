"""A loopback proxy that can be killed or silenced: the daemon or AWS endpoint going away mid-run.

Run as its own process (``python fault_proxy.py --listen ADDRESS --upstream ADDRESS``) so that
SIGKILL is a real crash: the listening socket dies with it and new connections are refused, open
ones are reset. SIGUSR1 makes it *silent* instead: it keeps accepting and reading, and answers
nothing ever again (a peer that accepts and never answers). It exits when its stdin reaches
end-of-file, so it cannot outlive the test that started it.

Addresses: ``unix:///path.sock`` or ``tcp://127.0.0.1:PORT`` (port 0: any free one). Only unix
sockets and 127.0.0.0/8 are ever bound or dialled. The ready line on stdout is
``{"listen": "<address>"}``, with the port chosen; ``{"silent": true}`` acknowledges SIGUSR1.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

READY_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0
CHUNK = 64 * 1024


def parse(address: str) -> tuple[int, str | tuple[str, int]]:
    """``(family, sockaddr)`` of a loopback TCP address or a unix socket path."""
    if address.startswith("unix://"):
        return socket.AF_UNIX, address.removeprefix("unix://")
    parts = urlsplit(address)
    host, port = parts.hostname or "", parts.port
    if parts.scheme not in ("tcp", "http") or port is None:
        raise ValueError(f"not a proxy address: {address!r}")
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"only loopback addresses are allowed: {address!r}")
    return socket.AF_INET, (host, port)


class Relay:
    """Copies bytes both ways between accepted connections and the upstream, until silenced."""

    def __init__(self, upstream: str) -> None:
        self.upstream = parse(upstream)
        self.silent = threading.Event()

    def serve(self, listener: socket.socket) -> None:
        while True:
            client, _ = listener.accept()
            threading.Thread(target=self.handle, args=(client,), daemon=True).start()

    def handle(self, client: socket.socket) -> None:
        if self.silent.is_set():
            self.swallow(client)
            return
        family, address = self.upstream
        server = socket.socket(family, socket.SOCK_STREAM)
        server.settimeout(CONNECT_TIMEOUT)
        try:
            server.connect(address)
        except OSError:
            client.close()  # what a proxy in front of a dead daemon does
            server.close()
            return
        server.settimeout(None)
        threading.Thread(target=self.pump, args=(server, client), daemon=True).start()
        self.pump(client, server)

    def pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Copy ``source`` to ``sink``; once silenced, read and drop, and never close."""
        while True:
            try:
                data = source.recv(CHUNK)
            except OSError:
                data = b""
            if self.silent.is_set():
                if not data:
                    self.silent.wait()  # hold both sockets open: a silent peer never hangs up
                continue
            if not data:
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)
                return
            try:
                sink.sendall(data)
            except OSError:
                return

    def swallow(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while client.recv(CHUNK):
                pass
        self.silent.wait()


def listen(address: str) -> tuple[socket.socket, str]:
    family, where = parse(address)
    listener = socket.socket(family, socket.SOCK_STREAM)
    if family == socket.AF_UNIX:
        assert isinstance(where, str)
        path = Path(where)
        # A proxy killed earlier leaves its socket file behind: take its place (a restart).
        if path.exists() and stat.S_ISSOCK(path.stat().st_mode):
            path.unlink()
        listener.bind(where)
        listener.listen(64)
        return listener, f"unix://{where}"
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(where)
    listener.listen(64)
    host, port = listener.getsockname()[:2]
    return listener, f"tcp://{host}:{port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen", required=True)
    parser.add_argument("--upstream", required=True)
    arguments = parser.parse_args(argv)
    relay = Relay(arguments.upstream)
    listener, address = listen(arguments.listen)

    def silence(_signum: int, _frame: object) -> None:
        relay.silent.set()
        print(json.dumps({"silent": True}), flush=True)

    signal.signal(signal.SIGUSR1, silence)
    threading.Thread(target=relay.serve, args=(listener,), daemon=True).start()
    print(json.dumps({"listen": address}), flush=True)
    # The parent holds our stdin: its end (the test finished or died) ends us.
    while sys.stdin.buffer.read(1):
        pass
    return 0


class FaultProxy:
    """The test's handle on one proxy process."""

    def __init__(self, process: subprocess.Popen[str], address: str) -> None:
        self.process = process
        self.address = address

    @classmethod
    def start(cls, listen_on: str, upstream: str) -> FaultProxy:
        process = subprocess.Popen(
            [sys.executable, __file__, "--listen", listen_on, "--upstream", upstream],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = _read_line(process, READY_TIMEOUT)
        return cls(process, str(json.loads(line)["listen"]))

    @property
    def url(self) -> str:
        """The address as an AWS endpoint URL (``http://127.0.0.1:PORT``)."""
        return self.address.replace("tcp://", "http://", 1)

    def kill(self) -> None:
        """SIGKILL: a crash. Bounded wait for the process to be gone."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def silence(self) -> None:
        """From now on accept, read and never answer (acknowledged before this returns)."""
        self.process.send_signal(signal.SIGUSR1)
        assert json.loads(_read_line(self.process, READY_TIMEOUT)) == {"silent": True}

    def stop(self) -> None:
        """End it (idempotent)."""
        if self.process.poll() is None:
            assert self.process.stdin is not None
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    """One stdout line within ``timeout`` (a reader thread: readline itself cannot time out)."""
    assert process.stdout is not None
    stdout = process.stdout
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not lines or not lines[0]:
        process.kill()
        process.wait(10)
        raise RuntimeError(f"fault proxy gave no line within {timeout:.0f} s")
    return lines[0]


if __name__ == "__main__":
    sys.exit(main())
