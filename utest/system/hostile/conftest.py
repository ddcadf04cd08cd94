"""Fixtures for the hostile-input tests: the scripted daemon (``utest/scripted_daemon.py``) and a
clean, offline environment."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from utest.scripted_daemon import keep_alive_fixture as keep_alive
from utest.scripted_daemon import serve, socket_dir

sys.path.insert(0, str(Path(__file__).parent))  # the helpers here: report_model, rewriting_proxy

__all__ = ["keep_alive", "offline_env", "serve", "socket_dir"]

# Everything that could point the library at a real daemon or real AWS, or lend it credentials.
_REAL_WORLD_VARIABLES = (
    "SOCKERLESS_HOST",
    "SOCKERLESS_ECS_SOCKET",
    "SOCKERLESS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "SOCKERLESS_ECS_CLUSTER",
    "SOCKERLESS_ECS_SUBNETS",
    "SOCKERLESS_ECS_SECURITY_GROUP",
    "SOCKERLESS_ECS_SECURITY_GROUPS",
    "SOCKERLESS_ECS_LOG_GROUP",
    "SOCKERLESS_KIT_RUN_ID",
    "SOCKERLESS_SIM_PROFILE",
    "SOCKERLESS_SIM_TIME_SCALE",
    "SOCKERLESS_SIM_QUIRKS",
)


@pytest.fixture(autouse=True)
def offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No target, no credentials, no instance metadata, no AWS config files; journal in tmp."""
    for name in _REAL_WORLD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("SOCKERLESS_KIT_JOURNAL_DIR", str(tmp_path / "journal"))
    yield tmp_path
