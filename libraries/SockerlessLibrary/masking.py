"""Known secrets are masked wherever the kit writes text: the report, the console, its files.

The kit knows two kinds of secret: the AWS credentials its clients sign with (from the
environment, or whatever boto3 resolved: a profile, a role) and the agent token sockerless puts in
every task definition (``SOCKERLESS_AGENT_TOKEN``: whoever has it can exec in the task). A test
that prints a container's environment through exec would put the token in the report; a daemon
that echoes a request could put a key there. ``SECRETS`` collects the values as the kit meets
them (the credentials when it builds a client, the tokens in every task definition its ECS
clients read, a ``SOCKERLESS_AGENT_TOKEN=`` assignment in any text it masks) and ``mask``
replaces each with ``MASK``; the report guard (``listeners/report_guard.py``) applies it to
every message of the run.

Values shorter than ``MIN_SECRET_LENGTH`` are not secrets the kit masks: real AWS keys (20 and
40 characters), session tokens and agent tokens are longer, and masking a test setup's
``AWS_SECRET_ACCESS_KEY=test`` would blank every ``test`` in the report.

>>> secrets = KnownSecrets()
>>> secrets.add("0123456789abcdef0123")
>>> secrets.mask("key 0123456789abcdef0123 and SOCKERLESS_AGENT_TOKEN=f00dfeedf00dfeedf00d ok")
'key ******** and SOCKERLESS_AGENT_TOKEN=******** ok'
>>> secrets.mask("printenv says f00dfeedf00dfeedf00d")
'printenv says ********'
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

MASK = "********"
MIN_SECRET_LENGTH = 16
AGENT_TOKEN_VARIABLE = "SOCKERLESS_AGENT_TOKEN"  # noqa: S105 - a name, not a secret
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
# ``SOCKERLESS_AGENT_TOKEN=value`` as ``env`` prints it, or quoted, or in a JSON/inspect dump.
_ASSIGNMENT = re.compile(
    re.escape(AGENT_TOKEN_VARIABLE) + r"""(["']?\s*[=:]\s*["']?)([^\s"',;}\]]+)"""
)


class KnownSecrets:
    """The secret values met so far in this process, and their masking."""

    def __init__(self) -> None:
        self._values: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    @property
    def longest(self) -> int:
        """The length of the longest known secret (0 when none is known)."""
        return max((len(value) for value in self._values), default=0)

    def add(self, *values: object) -> None:
        """Remember each value that is a string of at least ``MIN_SECRET_LENGTH`` characters."""
        new = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH}
        if not new or new <= self._values:
            return
        with self._lock:
            values_now = self._values | new
            # Longest first, so a secret that contains another is masked whole.
            ordered = sorted(values_now, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(value) for value in ordered))
            self._values = values_now

    def add_environment(self, env: Mapping[str, str]) -> None:
        """The AWS credentials of ``env`` (a process environment)."""
        self.add(*(env.get(name) for name in CREDENTIAL_VARIABLES))

    def add_credentials(self, credentials: Any) -> None:
        """botocore credentials as a client resolved them (``None``: there are none)."""
        if credentials is None:
            return
        frozen = credentials.get_frozen_credentials()
        self.add(frozen.access_key, frozen.secret_key, frozen.token)

    def add_task_definition(self, definition: Mapping[str, Any]) -> None:
        """The agent tokens of an ECS task definition (``DescribeTaskDefinition``'s answer)."""
        containers = definition.get("containerDefinitions")
        for container in containers if isinstance(containers, list) else []:
            environment = container.get("environment") if isinstance(container, Mapping) else None
            for pair in environment if isinstance(environment, list) else []:
                if isinstance(pair, Mapping) and pair.get("name") == AGENT_TOKEN_VARIABLE:
                    self.add(pair.get("value"))

    def mask(self, text: str) -> str:
        """``text`` with every known secret, and every ``SOCKERLESS_AGENT_TOKEN=`` value,
        replaced by ``MASK``; such a value is remembered, so a bare copy is masked from then
        on (in this text too)."""
        if AGENT_TOKEN_VARIABLE in text:
            self.add(*(match.group(2) for match in _ASSIGNMENT.finditer(text)))
            text = _ASSIGNMENT.sub(lambda match: AGENT_TOKEN_VARIABLE + match.group(1) + MASK, text)
        pattern = self._pattern
        return text if pattern is None else pattern.sub(MASK, text)


SECRETS = KnownSecrets()  # the process's: the library, its AWS clients and the guard share it
