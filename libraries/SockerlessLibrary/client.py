"""``DockerClient``: one method per Docker Engine API call the keywords need.

Methods return parsed JSON (dict/list), a status code, or a decoded stream. Every method takes
``timeout`` (a ``Timeouts``, or ``None`` for the transport's defaults); methods whose outcome has
more than one legitimate status take ``expected``, a collection of acceptable statuses (e.g.
``(204, 304)`` for a start that may find the container already running).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from . import attach, hijack
from .create_options import environment
from .encoding import (
    FiltersArg,
    QueryValue,
    TimeArg,
    command_list,
    encode_filters,
    encode_query,
    encode_time,
)
from .errors import (
    ConfigurationError,
    DaemonDown,
    DaemonResponseError,
    DaemonTimeout,
    ProtocolError,
    excerpt,
    with_context,
)
from .hijack import ExecStream
from .logstream import LogLine, WindowDecoder, log_lines
from .mux import STREAM_NAMES, DecodedStream, MuxDecoder
from .transport import Response, Target, Timeouts, Transport

__all__ = ["CallObserver", "DockerCall", "DockerClient", "ExecStream", "LogsResult", "StopReading"]

# What can name a container or an exec: a hex ID (or a prefix of one) or a name, whose pattern
# moby enforces at create (validContainerNamePattern); a reference may start with the name's "/".
# There is no length limit: Docker sets none on names (a very long one gets the transport's size
# note when the daemon refuses it).
_REFERENCE = re.compile(r"/?[a-zA-Z0-9][a-zA-Z0-9_.-]*")
# Called with each decoded piece of a logs stream, (stream name, payload); True stops the read.
StopReading = Callable[[str, bytes], bool]


@dataclass(frozen=True)
class DockerCall:
    """One request the client made, as the kit's clock saw it (``time.time()`` seconds).

    ``answered`` and ``status`` are ``None`` when no answer came (a timeout, a dropped
    connection). For a logs read, ``first_output`` is when its first bytes of output arrived and
    ``first_line`` the first non-empty line they held: when the daemon served that line.
    """

    operation: str
    method: str
    path: str
    sent: float
    answered: float | None
    status: int | None
    request_body: Any = None
    response_body: bytes = b""
    first_output: float | None = None
    first_line: str | None = None


# Told about every request ``DockerClient._call`` sends (a daemon marked down gets none) and every
# logs read; it must not raise (the timeline recorder is one).
CallObserver = Callable[[DockerCall], None]


@dataclass
class LogsResult:
    """A logs response: status, headers, the decoded stream and its log lines.

    ``timed_out`` is True when a ``follow`` read was ended by the read timeout (follow is bounded
    by design); ``output`` then holds everything that arrived until then. ``dropped`` is how many
    bytes of output a read that keeps only the last part (``keep``) no longer holds.
    """

    status: int
    headers: dict[str, str]
    output: DecodedStream
    log_lines: list[LogLine]
    timed_out: bool = False
    dropped: int = 0

    def __repr__(self) -> str:
        """Short: Robot logs a returned value's repr (cut after building it whole)."""
        return (
            f"LogsResult(status={self.status}, {self.output!r}, {len(self.log_lines)} line(s)"
            + (", timed out" if self.timed_out else "")
            + (f", {self.dropped} byte(s) dropped" if self.dropped else "")
            + ")"
        )


def _id(value: str, operation: str) -> str:
    """A container or exec reference for a URL path; one that no Docker ID or name can be is
    refused before anything is sent (a daemon's answer would only say it found nothing)."""
    text = str(value)
    if not _REFERENCE.fullmatch(text):
        raise ConfigurationError(
            f"{operation}: {excerpt(text, 80)!r} ({len(text):,} characters) cannot name a "
            "container or an exec: Docker IDs are hex digits, names match "
            "[a-zA-Z0-9][a-zA-Z0-9_.-]* (with an optional leading /); nothing was sent"
        )
    return quote(text, safe="")


def _decode(decoder: MuxDecoder, chunk: bytes, stop_when: StopReading | None) -> bool:
    """Decode ``chunk``; True when ``stop_when`` saw what it waits for in it."""
    pieces = decoder.feed(chunk)
    return stop_when is not None and any(
        stop_when(STREAM_NAMES[stream], payload) for stream, payload in pieces
    )


class DockerClient:
    """The Docker API calls of the library, over one ``Transport``."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.call_observer: CallObserver | None = None

    @property
    def target(self) -> Target:
        """The daemon this client talks to."""
        return self.transport.target

    @property
    def request_count(self) -> int:
        """Every HTTP request sent so far, streams and hijacks included."""
        return self.transport.request_count

    def close(self) -> None:
        """Close the kept-alive connection."""
        self.transport.close()

    def _call(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        query: Mapping[str, QueryValue] | None = None,
        body: Any = None,
        expected: Collection[int] = (200,),
        timeout: Timeouts | None = None,
    ) -> Response:
        sent = time.time()
        try:
            response = self.transport.request(
                method,
                path,
                operation=operation,
                query=encode_query(query) if query else "",
                body=body,
                expected=tuple(expected),
                timeout=timeout,
            )
        except DaemonResponseError as error:
            self._observe(
                DockerCall(operation, method, path, sent, time.time(), error.status, body)
            )
            raise
        except DaemonDown:
            raise  # never sent (the daemon was marked down earlier): no call to report
        except Exception:
            self._observe(DockerCall(operation, method, path, sent, None, None, body))
            raise
        self._observe(
            DockerCall(
                operation, method, path, sent, time.time(), response.status, body, response.body
            )
        )
        return response

    def _observe(self, call: DockerCall) -> None:
        if self.call_observer is not None:
            self.call_observer(call)

    def _json(self, response: Response, operation: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ProtocolError(
                f"{operation} on {self.target}: HTTP {response.status} body is not JSON: "
                f"{response.text()[:200]!r}"
            ) from None

    def ping(self, *, timeout: Timeouts | None = None) -> str:
        """``GET /_ping``: the body (``OK``)."""
        return self._call("GET", "/_ping", "ping", timeout=timeout).text()

    def simulator_info(self, *, timeout: Timeouts | None = None) -> dict[str, Any]:
        """``GET /_sim/info``: the kit's simulator's ready line; ``{}`` from any other daemon."""
        operation = "simulator info"
        response = self._call(
            "GET", "/_sim/info", operation, expected=range(100, 600), timeout=timeout
        )
        if response.status != 200:
            return {}
        try:
            info = response.json()
        except ValueError:
            return {}
        return dict(info) if isinstance(info, dict) else {}

    def version(self, *, timeout: Timeouts | None = None) -> dict[str, Any]:
        """``GET /version``."""
        response = self._call("GET", "/version", "version", timeout=timeout)
        return dict(self._json(response, "version"))

    def create_container_from_body(
        self,
        body: Mapping[str, Any],
        *,
        name: str | None = None,
        expected: Collection[int] = (201,),
        timeout: Timeouts | None = None,
    ) -> dict[str, Any]:
        """``POST /containers/create?name=...`` with a body already built (every create field)."""
        operation = "create container"
        response = self._call(
            "POST",
            "/containers/create",
            operation,
            query={"name": name},
            body=body,
            expected=expected,
            timeout=timeout,
        )
        return dict(self._json(response, operation)) if response.body.strip() else {}

    def start_container(
        self,
        container_id: str,
        *,
        expected: Collection[int] = (204,),
        timeout: Timeouts | None = None,
    ) -> int:
        """``POST /containers/{id}/start``: the status (204, or 304 if already running)."""
        path = f"/containers/{_id(container_id, 'start container')}/start"
        return self._call(
            "POST", path, "start container", expected=expected, timeout=timeout
        ).status

    def inspect_container(
        self,
        container_id: str,
        *,
        expected: Collection[int] = (200,),
        timeout: Timeouts | None = None,
    ) -> dict[str, Any]:
        """``GET /containers/{id}/json``."""
        operation = "inspect container"
        response = self._call(
            "GET",
            f"/containers/{_id(container_id, operation)}/json",
            operation,
            expected=expected,
            timeout=timeout,
        )
        return dict(self._json(response, operation)) if response.body.strip() else {}

    def list_containers(
        self,
        *,
        all: bool = False,
        filters: FiltersArg = None,
        timeout: Timeouts | None = None,
    ) -> list[dict[str, Any]]:
        """``GET /containers/json?all=...&filters=...``."""
        operation = "list containers"
        response = self._call(
            "GET",
            "/containers/json",
            operation,
            query={"all": all, "filters": encode_filters(filters)},
            timeout=timeout,
        )
        entries = self._json(response, operation)
        if not isinstance(entries, list):
            raise ProtocolError(f"{operation} on {self.target}: expected a JSON array")
        return [dict(entry) for entry in entries]

    def stop_container(
        self,
        container_id: str,
        *,
        t: int | None = None,
        expected: Collection[int] = (204,),
        timeout: Timeouts | None = None,
    ) -> int:
        """``POST /containers/{id}/stop?t=N``: the status (204, or 304 if already stopped)."""
        path = f"/containers/{_id(container_id, 'stop container')}/stop"
        return self._call(
            "POST", path, "stop container", query={"t": t}, expected=expected, timeout=timeout
        ).status

    def kill_container(
        self,
        container_id: str,
        *,
        signal: str | int | None = None,
        expected: Collection[int] = (204,),
        timeout: Timeouts | None = None,
    ) -> int:
        """``POST /containers/{id}/kill?signal=S``: the status."""
        path = f"/containers/{_id(container_id, 'kill container')}/kill"
        return self._call(
            "POST",
            path,
            "kill container",
            query={"signal": None if signal is None else str(signal)},
            expected=expected,
            timeout=timeout,
        ).status

    def wait_container(
        self,
        container_id: str,
        *,
        condition: str = "not-running",
        timeout: Timeouts | None = None,
    ) -> dict[str, Any]:
        """``POST /containers/{id}/wait?condition=...``: ``{"StatusCode": n, "Error": ...}``.

        The daemon answers once the condition holds, so ``timeout.read`` must cover that wait.
        """
        operation = "wait container"
        response = self._call(
            "POST",
            f"/containers/{_id(container_id, operation)}/wait",
            operation,
            query={"condition": condition},
            timeout=timeout,
        )
        return dict(self._json(response, operation))

    def remove_container(
        self,
        container_id: str,
        *,
        force: bool = False,
        expected: Collection[int] = (204,),
        timeout: Timeouts | None = None,
    ) -> int:
        """``DELETE /containers/{id}?force=true|false``: the status."""
        return self._call(
            "DELETE",
            f"/containers/{_id(container_id, 'remove container')}",
            "remove container",
            query={"force": force},
            expected=expected,
            timeout=timeout,
        ).status

    def container_logs(
        self,
        container_id: str,
        *,
        stdout: bool = True,
        stderr: bool = True,
        timestamps: bool = False,
        tail: int | str | None = None,
        since: TimeArg = None,
        until: TimeArg = None,
        follow: bool = False,
        tty: bool = False,
        timeout: Timeouts | None = None,
        stop_when: StopReading | None = None,
        keep: int | None = None,
    ) -> LogsResult:
        """``GET /containers/{id}/logs``, decoded.

        Framing follows ``tty`` (the caller knows ``Config.Tty``); a multiplexed Content-Type
        also means framed. With ``follow=True`` the stream is read until the daemon ends it or
        the read timeout passes; the latter returns what arrived with ``timed_out=True``.
        Without ``follow`` the timeout raises ``DaemonTimeout``. ``stop_when`` sees every
        decoded piece as it arrives (e.g. a ``LineWatch``): once it returns True, the read
        stops there and the connection is closed; the result holds what was decoded until then.
        ``keep``: hold only about the last ``keep`` bytes of output (``WindowDecoder``), so the
        read's memory is bounded however long the logs are; ``dropped`` says how much went.
        """
        query: dict[str, QueryValue] = {
            "stdout": stdout,
            "stderr": stderr,
            "timestamps": timestamps,
            "follow": follow,
            "tail": None if tail is None else str(tail),
            "since": encode_time(since, name="since"),
            "until": encode_time(until, name="until"),
        }
        path = f"/containers/{_id(container_id, 'container logs')}/logs"
        sent = time.time()
        stream = self.transport.open_stream(
            "GET", path, operation="container logs", query=encode_query(query), timeout=timeout
        )
        first_output: float | None = None
        with stream:
            multiplexed = hijack.is_multiplexed(tty, stream.headers)
            decoder = (
                MuxDecoder(multiplexed=multiplexed)
                if keep is None
                else WindowDecoder(keep, multiplexed=multiplexed)
            )
            timed_out = stopped = False
            try:
                try:
                    for chunk in stream.chunks():
                        if first_output is None and chunk:
                            first_output = time.time()
                        if _decode(decoder, chunk, stop_when):
                            stopped = True
                            break
                except DaemonTimeout as error:
                    if not follow:
                        error.partial = decoder.finish(incomplete_ok=True)
                        raise
                    timed_out = True
                output = decoder.finish(incomplete_ok=timed_out or stopped)
            except ProtocolError as error:
                raise with_context(error, f"container logs on {self.target}") from None
        lines = log_lines(output, timestamps=timestamps)
        self._observe(
            DockerCall(
                "container logs",
                "GET",
                path,
                sent,
                time.time(),
                stream.status,
                first_output=first_output,
                first_line=next((line.text for line in lines if line.text), None),
            )
        )
        return LogsResult(stream.status, stream.headers, output, lines, timed_out, decoder.dropped)

    def create_exec(
        self,
        container_id: str,
        cmd: str | Sequence[str],
        *,
        env: Mapping[str, object] | Sequence[str] | None = None,
        workdir: str | None = None,
        tty: bool = False,
        attach_stdin: bool = False,
        expected: Collection[int] = (201,),
        timeout: Timeouts | None = None,
        user: str | None = None,
    ) -> str:
        """``POST /containers/{id}/exec``: the exec ID. ``Cmd`` is always sent as a list."""
        body: dict[str, Any] = {
            "AttachStdin": attach_stdin,
            "AttachStdout": True,
            "AttachStderr": True,
            "Tty": tty,
            "Cmd": command_list(cmd, what="exec cmd"),
        }
        if env is not None:
            body["Env"] = environment(env)
        if workdir is not None:
            body["WorkingDir"] = workdir
        if user is not None:
            body["User"] = user
        operation = "create exec"
        response = self._call(
            "POST",
            f"/containers/{_id(container_id, operation)}/exec",
            operation,
            body=body,
            expected=expected,
            timeout=timeout,
        )
        if response.status != 201:
            return ""  # an error status the caller expected: there is no exec to name
        created = self._json(response, operation)
        if not isinstance(created, dict) or not isinstance(created.get("Id"), str):
            raise ProtocolError(f"{operation} on {self.target}: no Id in {response.text()!r}")
        return str(created["Id"])

    def start_exec(
        self,
        exec_id: str,
        *,
        stdin: bytes | None = None,
        tty: bool = False,
        timeout: Timeouts | None = None,
    ) -> ExecStream:
        """``POST /exec/{id}/start`` hijacked: the output, read until the daemon closes."""
        _id(exec_id, hijack.OPERATION)
        return hijack.start_exec(self.transport, exec_id, stdin=stdin, tty=tty, timeout=timeout)

    def inspect_exec(self, exec_id: str, *, timeout: Timeouts | None = None) -> dict[str, Any]:
        """``GET /exec/{id}/json`` (``ExitCode`` is ``null`` while it runs)."""
        operation = "inspect exec"
        response = self._call(
            "GET", f"/exec/{_id(exec_id, operation)}/json", operation, timeout=timeout
        )
        return dict(self._json(response, operation))

    def attach_websocket(
        self,
        container_id: str,
        *,
        send: bytes | None = None,
        timeout: Timeouts | None = None,
    ) -> bytes:
        """``GET /containers/{id}/attach/ws``: raw output until close or the read timeout."""
        _id(container_id, attach.OPERATION)
        return attach.attach_websocket(self.transport, container_id, send=send, timeout=timeout)
