"""``GET /containers/{id}/attach/ws``: attach over WebSocket with websocket-client.

We open the socket ourselves (unix or TCP) and hand it to websocket-client, so the same target
works for both. Messages are raw, never multiplexed: stdout and stderr arrive mixed. sockerless
has no such route (a plain 404), which becomes ``AttachNotSupported``.
"""

from __future__ import annotations

import contextlib
from urllib.parse import quote

import websocket

from .errors import (
    AttachNotSupported,
    DaemonResponseError,
    DaemonTimeout,
    DaemonUnreachable,
    ProtocolError,
)
from .transport import Deadline, Timeouts, Transport, response_error

OPERATION = "attach container over WebSocket"


def attach_websocket(
    transport: Transport,
    container_id: str,
    *,
    send: bytes | None = None,
    timeout: Timeouts | None = None,
) -> bytes:
    """Attach to ``container_id``, send ``send`` (as stdin) if given, and return the output.

    Reads until the daemon closes the WebSocket or the read timeout passes (attach is bounded by
    design: whatever arrived by then is returned).
    """
    timeouts = timeout or transport.timeouts
    transport.ensure_api_version(OPERATION, timeouts)
    path = f"/containers/{quote(container_id, safe='')}/attach/ws"
    query = "stream=1&stdout=1&stderr=1" + ("&stdin=1" if send is not None else "")
    url = f"ws://{transport.target.host_header}{transport.url_path(path, query)}"
    sock = transport.connect(OPERATION, timeouts)
    deadline = Deadline(timeouts.read, OPERATION, transport.target)
    transport.count_request()
    sock.settimeout(deadline.remaining())
    try:
        ws = websocket.create_connection(
            url, socket=sock, timeout=deadline.remaining(), suppress_origin=True
        )
    except websocket.WebSocketBadStatusException as error:
        sock.close()
        raise _handshake_error(transport, container_id, error) from None
    except websocket.WebSocketTimeoutException:
        sock.close()
        raise deadline.expired("no WebSocket handshake answer") from None
    except (websocket.WebSocketException, OSError) as error:
        sock.close()
        raise DaemonUnreachable(
            f"{OPERATION} on {transport.target}: WebSocket handshake failed: {error}"
        ) from None
    try:
        if send is not None:
            ws.send_bytes(send)
        return _receive_until_closed(ws, deadline)
    finally:
        with contextlib.suppress(websocket.WebSocketException, OSError):
            ws.close(timeout=0)  # the socket closes next anyway: no need to wait for a reply
        sock.close()


def _receive_until_closed(ws: websocket.WebSocket, deadline: Deadline) -> bytes:
    received: list[bytes] = []
    while True:
        try:
            ws.settimeout(deadline.remaining())
            opcode, data = ws.recv_data()
        except (DaemonTimeout, websocket.WebSocketTimeoutException, TimeoutError):
            break  # bounded read: return what arrived
        except (websocket.WebSocketConnectionClosedException, OSError):
            break  # the daemon closed (answering its close frame may hit a closed socket)
        except websocket.WebSocketException as error:
            raise ProtocolError(f"{OPERATION} on {deadline.target}: {error}") from None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            break
        if opcode in (websocket.ABNF.OPCODE_BINARY, websocket.ABNF.OPCODE_TEXT):
            received.append(data if isinstance(data, bytes) else str(data).encode())
    return b"".join(received)


def _handshake_error(
    transport: Transport,
    container_id: str,
    error: websocket.WebSocketBadStatusException,
) -> AttachNotSupported | DaemonResponseError:
    headers = {str(k).lower(): str(v) for k, v in (error.resp_headers or {}).items()}
    failure = response_error(
        OPERATION,
        transport.target,
        error.status_code,
        str(error.status_message or ""),
        error.resp_body or b"",
        content_type=headers.get("content-type", ""),
    )
    # A 404 naming the container is about the container; any other 404 means no such route.
    if error.status_code == 404 and "no such container" not in failure.message.lower():
        return AttachNotSupported(
            f"this daemon does not support attach over WebSocket "
            f"(GET /containers/{container_id}/attach/ws answered 404) on {transport.target}"
        )
    return failure
