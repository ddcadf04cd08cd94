"""Docker-shaped API errors and the mapping of AWS (boto3) failures onto them."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError


class ApiError(Exception):
    """An error answered as ``{"message": ...}`` with ``status`` (before any byte was sent)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> ApiError:
    """400 with ``message``."""
    return ApiError(400, message)


def no_such_container(ref: str) -> ApiError:
    """404 in Docker's wording for an unknown container reference."""
    return ApiError(404, f"No such container: {ref}")


def no_such_exec(exec_id: str) -> ApiError:
    """404 in Docker's wording for an unknown exec instance."""
    return ApiError(404, f"No such exec instance: {exec_id}")


def not_running(container_id: str) -> ApiError:
    """409 for an operation that needs a running container."""
    return ApiError(409, f"Container {container_id} is not running")


def not_supported(method: str, path: str) -> ApiError:
    """501 for an endpoint the simulator does not implement, in sockerless' shape
    (``<METHOD> <path> is not supported``), saying who does not support it. Docker answers 404
    ``page not found`` for a route it does not know; the Docker CLI would print that, which
    reads like a missing container or image."""
    return ApiError(
        501,
        f"{method} {path} is not supported by the embedded simulator (sockerless_sim): see "
        "simulator/README.md for the endpoints it implements",
    )


def from_aws_error(exc: ClientError | BotoCoreError, operation: str | None = None) -> ApiError:
    """500 ``<operation>: <AWS error code>: <message>``, as sockerless reports an AWS failure.

    ``operation`` is only needed for transport-level botocore errors, which do not carry one.
    """
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        message = error.get("Message", str(exc))
        return ApiError(500, f"{exc.operation_name}: {code}: {message}")
    return ApiError(500, f"{operation or 'AWS'}: {type(exc).__name__}: {exc}")
