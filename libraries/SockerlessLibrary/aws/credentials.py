"""Whether AWS credentials are available, decided the way the spec says (AC 1).

Only the presence of the variables counts: nothing is resolved, no profile file is read and no AWS
call is made, so the answer is cheap, side-effect free and safe before anything else is set up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

CredentialsState = Literal["available", "missing", "simulator"]

SKIP_MESSAGE = "AWS credentials not available"


def credentials_available(env: Mapping[str, str]) -> bool:
    """True iff both access key variables, or ``AWS_PROFILE``, are set to non-empty values."""
    keys = bool(env.get("AWS_ACCESS_KEY_ID")) and bool(env.get("AWS_SECRET_ACCESS_KEY"))
    return keys or bool(env.get("AWS_PROFILE"))


def credentials_state(env: Mapping[str, str]) -> CredentialsState:
    """``available`` or ``missing`` for a real target (the embedded simulator is ``simulator``)."""
    return "available" if credentials_available(env) else "missing"
