"""IAM mode: the kit runs as an IAM user holding only a given policy, and every call is recorded.

With a policy file configured (``--iam-policy FILE``, ``SOCKERLESS_SIM_IAM_POLICY``), the plane:

1. creates the IAM user ``sockerless-sim-daemon``, allowed everything; the plane's own clients
   (the simulated daemon, its log shipper, the bootstrap) sign with its keys, which never leave
   the process;
2. creates the IAM user ``sockerless-kit`` holding exactly the given policy, as a managed policy
   attached to it (what ``aws iam create-policy`` and ``attach-user-policy`` do), and writes its
   keys to a file readable by the simulator's user only (mode 0600, in the simulator's private
   work directory, removed at shutdown); the ready line names the file, never the keys;
3. turns on moto's signature and policy checks, made to check real resources and conditions by
   ``iam_authz``.

``IamRecorder`` is a WSGI middleware in front of moto. It reads who signed each request (the
access key in the SigV4 ``Credential=``) and which action it is, and counts per IAM user name the
actions called and the ones denied. moto answers a denial with an XML document that botocore
cannot read for JSON services (its code reads "403"), so the recorder rewrites it as AWS answers:
``AccessDeniedException`` naming the action and the resource for ECS and CloudWatch Logs,
``UnauthorizedOperation`` for EC2.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from moto import settings as moto_settings
from moto.core.authorization import ActionAuthenticatorMixin

from ..config import load_policy
from . import iam_authz
from .faults import error_document, operation_of

DAEMON_USER = "sockerless-sim-daemon"
KIT_USER = "sockerless-kit"
KIT_POLICY_NAME = "sockerless-kit"
CREDENTIALS_FILE_NAME = "kit-credentials.json"
UNKNOWN_KEY = "(no IAM user)"
_EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
# "Authorization: AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/<service>/aws4_request, ..."
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/,]*/[^/,]*/([^/,]*)/")
_ERROR_CODE = re.compile(rb"<Code>([^<]+)</Code>")
_DENIED_USER = re.compile(r"User: (\S+) is not authorized")
_REWRITTEN_STATUS = {400: "400 Bad Request", 403: "403 Forbidden"}


@dataclass(frozen=True)
class _Signed:
    """Who sent a request (IAM user name) and what it asked for."""

    user: str
    action: str  # "ecs:ListTasks"
    service: str  # the SigV4 service: "ecs", "logs", "ec2", ...
    json_protocol: bool


@dataclass(frozen=True)
class KeyPair:
    """An access key of a simulated IAM user (the secret never appears in a repr)."""

    access_key_id: str
    secret_access_key: str = field(repr=False)


def write_private_json(path: str, payload: dict[str, str]) -> None:
    """Create ``path`` with mode 0600 (never an existing file) and write ``payload`` to it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(payload, out)


class IamRecorder:
    """Per IAM user: actions called and actions denied; rewrites moto's auth errors as AWS's."""

    def __init__(self, user_of_key: Callable[[str], str | None]) -> None:
        self._user_of_key = user_of_key
        self._lock = threading.Lock()
        self._calls: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._denied: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._rejected: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def stats(self) -> dict[str, Any]:
        """``{"users": {name: {"calls": {action: n}, "denied": {...}, "rejected": {...}}}}``;
        ``rejected`` counts requests whose key or signature moto did not accept."""
        with self._lock:
            names = sorted(set(self._calls) | set(self._denied) | set(self._rejected))
            return {
                "users": {
                    name: {
                        "calls": dict(sorted(self._calls[name].items())),
                        "denied": dict(sorted(self._denied[name].items())),
                        "rejected": dict(sorted(self._rejected[name].items())),
                    }
                    for name in names
                }
            }

    def wrap(self, app: WSGIApplication) -> WSGIApplication:
        """The middleware (outermost: it sees faulted requests too)."""

        def middleware(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            signer = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION", "")))
            operation, json_protocol = operation_of(environ)
            if signer is None or operation is None:
                return app(environ, start_response)
            key_id, service = signer.groups()
            signed = _Signed(
                self._user_of_key(key_id) or UNKNOWN_KEY,
                f"{service}:{operation}",
                service,
                json_protocol,
            )
            with self._lock:
                self._calls[signed.user][signed.action] += 1
            iam_authz.begin_request()
            held: list[tuple[str, list[tuple[str, str]]]] = []

            def hold_auth_errors(
                status: str, headers: list[tuple[str, str]], exc_info: Any = None
            ) -> Callable[[bytes], object]:
                if status.startswith(("401", "403")):
                    held.append((status, headers))
                    return lambda _data: None
                return start_response(status, headers, exc_info)

            body = app(environ, hold_auth_errors)
            if not held:
                return body
            data = _drain_body(body)
            code_match = _ERROR_CODE.search(data)
            code = code_match.group(1).decode("utf-8", "replace") if code_match else ""
            answer = self._aws_answer(code, data, signed)
            if answer is None:
                start_response(held[0][0], held[0][1])
                return [data]
            status, content, content_type = answer
            start_response(
                _REWRITTEN_STATUS[status],
                [("Content-Type", content_type), ("Content-Length", str(len(content)))],
            )
            return [content]

        return middleware

    def _aws_answer(self, code: str, data: bytes, signed: _Signed) -> tuple[int, bytes, str] | None:
        """(status, body, content type) as AWS answers moto's auth error, or None to keep it."""
        user, action = signed.user, signed.action
        if code == "AccessDenied":
            with self._lock:
                self._denied[user][action] += 1
            signer = _DENIED_USER.search(data.decode("utf-8", "replace"))
            resource = iam_authz.denied_resource() or iam_authz.ANY_RESOURCE
            message = (
                f"User: {signer.group(1) if signer else user} is not authorized to perform: "
                f"{action} on resource: {resource} because no identity-based policy allows the "
                f"{action} action"
            )
            if signed.json_protocol:
                return (400, *error_document("AccessDeniedException", message, True))
            if signed.service == "ec2":
                text = f"You are not authorized to perform this operation. {message}"
                return (403, *error_document("UnauthorizedOperation", text, False))
            return None
        if code in ("InvalidClientTokenId", "SignatureDoesNotMatch", "AuthFailure"):
            with self._lock:
                self._rejected[user][action] += 1
            if signed.json_protocol and code == "InvalidClientTokenId":
                text = "The security token included in the request is invalid."
                return (400, *error_document("UnrecognizedClientException", text, True))
            if signed.json_protocol and code == "SignatureDoesNotMatch":
                text = (
                    "The request signature we calculated does not match the signature you "
                    "provided. Check your AWS Secret Access Key and signing method."
                )
                return (400, *error_document("InvalidSignatureException", text, True))
        return None


def _drain_body(body: Iterable[bytes]) -> bytes:
    try:
        return b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if callable(close):
            close()


class IamEnforcement:
    """The plane's IAM mode: users and keys, moto's checks on and off, the recorder."""

    def __init__(self, policy_path: str, workdir: str) -> None:
        self.policy_path = str(Path(policy_path).resolve())
        self.policy_document = load_policy(self.policy_path)
        self.credentials_file = str(Path(workdir) / CREDENTIALS_FILE_NAME)
        self._users_by_key: dict[str, str] = {}
        self.recorder = IamRecorder(self._users_by_key.get)
        self._saved: tuple[float, int] | None = None

    def create_users(self, iam: Any) -> KeyPair:
        """Create the daemon's and the kit's users (before enforcement); the daemon's keys."""
        iam.create_user(UserName=DAEMON_USER)
        iam.put_user_policy(
            UserName=DAEMON_USER,
            PolicyName="everything",
            PolicyDocument=json.dumps(_EVERYTHING),
        )
        daemon = self._new_key(iam, DAEMON_USER)
        iam.create_user(UserName=KIT_USER)
        policy_arn = iam.create_policy(
            PolicyName=KIT_POLICY_NAME, PolicyDocument=self.policy_document
        )["Policy"]["Arn"]
        iam.attach_user_policy(UserName=KIT_USER, PolicyArn=policy_arn)
        kit = self._new_key(iam, KIT_USER)
        write_private_json(
            self.credentials_file,
            {
                "user": KIT_USER,
                "aws_access_key_id": kit.access_key_id,
                "aws_secret_access_key": kit.secret_access_key,
            },
        )
        return daemon

    def _new_key(self, iam: Any, user: str) -> KeyPair:
        key = iam.create_access_key(UserName=user)["AccessKey"]
        self._users_by_key[str(key["AccessKeyId"])] = user
        return KeyPair(str(key["AccessKeyId"]), str(key["SecretAccessKey"]))

    def enforce(self) -> None:
        """From the next request on, moto checks every signature and policy."""
        if self._saved is None:
            self._saved = (
                moto_settings.INITIAL_NO_AUTH_ACTION_COUNT,
                ActionAuthenticatorMixin.request_count,
            )
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0

    def relax(self) -> None:
        """Give moto its unchecked mode back; idempotent."""
        if self._saved is not None:
            count, requests = self._saved
            moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = count
            ActionAuthenticatorMixin.request_count = requests
            self._saved = None

    def describe(self) -> dict[str, str]:
        """For the ready line: who the kit is and where its keys are (never the keys)."""
        return {
            "kit_user": KIT_USER,
            "credentials_file": self.credentials_file,
            "policy_file": self.policy_path,
        }

    def stats(self) -> dict[str, Any]:
        """Whether checks are on, and per user what was called and denied."""
        return {"enforced": self._saved is not None, **self.recorder.stats()}
