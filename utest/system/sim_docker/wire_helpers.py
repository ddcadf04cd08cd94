"""A raw HTTP client for the Docker API tests.

It writes requests by hand and reads every byte the daemon sends, so tests can assert on exact
status lines, headers, frame headers and the absence of a body.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from sockerless_sim.launcher import SimulatorInfo

IO_TIMEOUT = 15.0


@dataclass
class RawResponse:
    """A response as read off the socket."""

    status: int
    reason: str
    headers: dict[str, str]
    head: bytes
    body: bytes
    raw: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def recv_all(sock: socket.socket) -> bytes:
    """Read until the peer closes."""
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def dechunk(body: bytes) -> bytes:
    """Decode an HTTP/1.1 chunked body (must be complete)."""
    out = bytearray()
    rest = body
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return bytes(out)
        out += rest[:size]
        assert rest[size : size + 2] == b"\r\n", "chunk not terminated by CRLF"
        rest = rest[size + 2 :]


def parse_response(raw: bytes) -> RawResponse:
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep, f"no end of headers in {raw[:200]!r}"
    lines = head.decode("latin-1").split("\r\n")
    _version, status, reason = ([*lines[0].split(" ", 2), ""])[:3]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = dechunk(body)
    return RawResponse(int(status), reason, headers, head + sep, body, raw)


def build_request(
    method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> bytes:
    payload = b""
    all_headers = {"Host": "localhost", "Connection": "close"}
    if body is not None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    all_headers["Content-Length"] = str(len(payload))
    all_headers.update(headers or {})
    head = f"{method} {path} HTTP/1.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in all_headers.items()) + "\r\n"
    return head.encode() + payload


@dataclass
class RawClient:
    """One connection per request (``Connection: close``) to the simulator's unix socket."""

    socket_path: str
    created: list[str] = field(default_factory=list)

    def connect(self, timeout: float = IO_TIMEOUT) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(self.socket_path)
        return sock

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float = IO_TIMEOUT,
    ) -> RawResponse:
        with self.connect(timeout) as sock:
            sock.sendall(build_request(method, path, body, headers))
            return parse_response(recv_all(sock))

    def create(self, cmd: list[str], **config: Any) -> str:
        """Create a container (registered for cleanup); returns its ID."""
        name = config.pop("name", None)
        path = "/v1.44/containers/create" + (f"?name={name}" if name else "")
        response = self.request("POST", path, {"Image": "alpine:latest", "Cmd": cmd, **config})
        assert response.status == 201, response.raw
        container_id = str(response.json()["Id"])
        self.created.append(container_id)
        return container_id

    def run(self, cmd: list[str], **config: Any) -> str:
        """Create and start; returns the ID."""
        container_id = self.create(cmd, **config)
        response = self.request("POST", f"/containers/{container_id}/start")
        assert response.status == 204, response.raw
        return container_id

    def create_exec(self, container_id: str, cmd: list[str], **extra: object) -> str:
        """Create an exec instance; returns its ID."""
        response = self.request("POST", f"/containers/{container_id}/exec", {"Cmd": cmd, **extra})
        assert response.status == 201, response.raw
        return str(response.json()["Id"])

    def exec_stream(self, exec_id: str, *, tty: bool = False) -> bytes:
        """Start an exec hijacked (no stdin) and read its stream to the end."""
        with self.connect() as sock:
            upgrade = {"Connection": "Upgrade", "Upgrade": "tcp"}
            sock.sendall(build_request("POST", f"/exec/{exec_id}/start", {"Tty": tty}, upgrade))
            return recv_all(sock)

    def inspect(self, container_id: str) -> dict[str, Any]:
        response = self.request("GET", f"/containers/{container_id}/json")
        assert response.status == 200, response.raw
        return dict(response.json())

    def wait_status(self, container_id: str, status: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            document = self.inspect(container_id)
            if document["State"]["Status"] == status:
                return document
            assert time.monotonic() < deadline, f"still {document['State']} after {timeout} s"
            time.sleep(0.05)

    def logs_when(
        self, container_id: str, query: str, ready: Callable[[bytes], bool], timeout: float = 10.0
    ) -> RawResponse:
        """GET logs until ``ready(body)`` (CloudWatch delivery is delayed, as on AWS)."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.request("GET", f"/containers/{container_id}/logs?{query}")
            if response.status == 200 and ready(response.body):
                return response
            assert time.monotonic() < deadline, f"logs never ready: {response.raw[:500]!r}"
            time.sleep(0.1)

    def cleanup(self) -> None:
        for container_id in self.created:
            self.request("DELETE", f"/containers/{container_id}?force=true")
        self.created.clear()


def aws_client(info: SimulatorInfo, service: str) -> Any:
    """A boto3 client to the simulator's moto, made independently of the daemon."""
    return boto3.client(
        service,
        endpoint_url=info.aws_endpoint_url,
        region_name=info.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def parse_frames(data: bytes) -> list[tuple[int, bytes]]:
    """Split a multiplexed stream into (type, payload), checking every header strictly."""
    frames = []
    while data:
        assert len(data) >= 8, f"truncated header {data!r}"
        stream, zero1, zero2, zero3, length = struct.unpack(">BBBBL", data[:8])
        assert (zero1, zero2, zero3) == (0, 0, 0), f"header bytes 1-3 not zero: {data[:8]!r}"
        assert stream in (0, 1, 2, 3), f"unknown stream type {stream}"
        assert len(data) >= 8 + length, "truncated payload"
        frames.append((stream, data[8 : 8 + length]))
        data = data[8 + length :]
    return frames
