"""Whether AWS credentials are available, decided the way the spec says (AC 1).

Only the presence of the variables counts: nothing is resolved, no profile file is read and no AWS
call is made, so the answer is cheap, side-effect free and safe before anything else is set up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

CredentialsState = Literal["available", "missing", "simulator"]

SKIP_MESSAGE = "AWS credentials not available"
REQUIRE_ENV = "SOCKERLESS_KIT_REQUIRE_CREDENTIALS"
REQUIRE_VARIABLE = "REQUIRE_AWS_CREDENTIALS"
KEY_PAIR = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
_TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
_FALSE_WORDS = frozenset({"false", "no", "off", "0", ""})


def credentials_available(env: Mapping[str, str]) -> bool:
    """True iff both access key variables, or ``AWS_PROFILE``, are set to non-empty values."""
    return all(env.get(name) for name in KEY_PAIR) or bool(env.get("AWS_PROFILE"))


def credentials_state(env: Mapping[str, str]) -> CredentialsState:
    """``available`` or ``missing`` for a real target (the embedded simulator is ``simulator``)."""
    return "available" if credentials_available(env) else "missing"


def credentials_required(value: object, source: str) -> bool:
    """The CI switch: ``true``/``yes``/``on``/``1`` or ``false``/``no``/``off``/``0``/empty."""
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in _TRUE_WORDS:
        return True
    if text in _FALSE_WORDS:
        return False
    raise ValueError(f"{source} is {value!r}: use true or false")


def required_credentials_message(env: Mapping[str, str]) -> str:
    """The failure that replaces the AC 1 skip when credentials are required and missing."""
    missing = [name for name in KEY_PAIR if not env.get(name)]
    if len(missing) == 1:
        what = f"set {missing[0]} (the other half of the key pair is set)"
    else:
        what = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE: none is set"
    return (
        f"{SKIP_MESSAGE}, and this run requires them ({REQUIRE_VARIABLE} / {REQUIRE_ENV} is "
        f"on, so the run fails instead of skipping): {what}"
    )
