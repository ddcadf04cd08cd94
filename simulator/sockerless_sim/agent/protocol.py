"""The agent's wire protocol: JSON text messages over a WebSocket, shared by server and client.

Every message is a JSON object with a ``type`` and, except for health, a session ``id``; one
WebSocket may carry many sessions. Byte payloads (``data``) are standard base64.

client -> agent: ``exec`` {id, cmd, env, workdir?, user?, tty, console_size? [rows, columns]}
(workdir and user default to the container's), ``attach`` {id, replay?},
``stdin`` {id, data},
``close_stdin`` {id}, ``signal`` {id, signal (int or name), ack?}, ``resize`` {id, width, height}.
An exec's ``env`` is an object of names, or Docker's list of ``K=V`` (a bare ``K`` unsets K).

agent -> client: ``stdout`` / ``stderr`` {id, data}, ``exit`` {id, code},
``error`` {id, message, start_failed?} (``start_failed``: the exec's process could not be started),
``signaled`` {id, delivered} (the answer to a ``signal`` with ``ack: true``, once it was sent).
``exit`` and ``error`` both end a session (an ``error`` ends the session it names, an exec's
process included); an ``error`` about a message that named no session carries ``id: ""``.
Stdin for a process whose stdin is closed (or, for ``attach``, was never open) is dropped
silently, as Docker does; signals to a process that already ended are ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
import signal
from enum import StrEnum
from typing import Any

TOKEN_ENV = "SOCKERLESS_AGENT_TOKEN"  # noqa: S105 - the variable's name, not a secret
WS_PATH = "/ws"
HEALTH_PATH = "/health"


class MessageType(StrEnum):
    """Every ``type`` value the protocol knows."""

    EXEC = "exec"
    ATTACH = "attach"
    STDIN = "stdin"
    CLOSE_STDIN = "close_stdin"
    SIGNAL = "signal"
    RESIZE = "resize"
    STDOUT = "stdout"
    STDERR = "stderr"
    EXIT = "exit"
    ERROR = "error"
    SIGNALED = "signaled"


OUTPUT_TYPES = frozenset({MessageType.STDOUT, MessageType.STDERR})


class ProtocolError(ValueError):
    """A message that is not valid JSON, or lacks a field the protocol requires."""


def encode(message: dict[str, Any]) -> str:
    """Serialise one message as compact JSON text."""
    return json.dumps(message, separators=(",", ":"))


def decode(text: str | bytes) -> dict[str, Any]:
    """Parse one message; it must be a JSON object with a string ``type`` and ``id``."""
    try:
        message = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"message is not valid JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise ProtocolError("message is not a JSON object")
    if not isinstance(message.get("type"), str):
        raise ProtocolError("message has no string 'type'")
    if not isinstance(message.get("id", ""), str):
        raise ProtocolError("message 'id' is not a string")
    return message


def encode_data(data: bytes) -> str:
    """Standard base64 of a byte payload."""
    return base64.b64encode(data).decode("ascii")


def decode_data(message: dict[str, Any]) -> bytes:
    """The ``data`` field of a message, base64-decoded."""
    text = message.get("data", "")
    if not isinstance(text, str):
        raise ProtocolError("'data' is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ProtocolError(f"'data' is not valid base64: {exc}") from exc


def output_message(stream: str, session_id: str, data: bytes) -> dict[str, Any]:
    """A ``stdout``/``stderr`` message."""
    return {"type": stream, "id": session_id, "data": encode_data(data)}


def exit_message(session_id: str, code: int) -> dict[str, Any]:
    """An ``exit`` message."""
    return {"type": MessageType.EXIT.value, "id": session_id, "code": code}


def signaled_message(session_id: str, *, delivered: bool) -> dict[str, Any]:
    """A ``signaled`` message: the answer to a ``signal`` that asked for one."""
    return {"type": MessageType.SIGNALED.value, "id": session_id, "delivered": delivered}


def error_message(session_id: str, text: str, *, start_failed: bool = False) -> dict[str, Any]:
    """An ``error`` message; ``start_failed``: the exec's process could not be started (``text``
    is runc's reason), which Docker reports as the exec's output and exit code 126."""
    message: dict[str, Any] = {"type": MessageType.ERROR.value, "id": session_id, "message": text}
    if start_failed:
        message["start_failed"] = True
    return message


def parse_signal(value: object) -> int:
    """A signal number from an int, a decimal string, or a name with or without ``SIG``."""
    if isinstance(value, bool):
        raise ProtocolError(f"not a signal: {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    elif isinstance(value, str):
        name = value.strip().upper()
        name = name if name.startswith("SIG") else f"SIG{name}"
        try:
            return int(signal.Signals[name])
        except KeyError:
            raise ProtocolError(f"unknown signal: {value!r}") from None
    else:
        raise ProtocolError(f"not a signal: {value!r}")
    if number not in {int(s) for s in signal.Signals}:
        raise ProtocolError(f"unknown signal number: {number}")
    return number


def exit_code_from_returncode(returncode: int) -> int:
    """Docker's exit code for a process: its status, or 128+N when signal N killed it."""
    return returncode if returncode >= 0 else 128 - returncode
