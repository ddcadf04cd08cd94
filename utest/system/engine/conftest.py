"""A real Docker Engine (``peers.docker_engine``) for the library's wire layer to meet, and for
the simulator's answers to be compared with (``test_docker_agreement.py``).

One private engine serves the whole session: ``tasks.py test`` runs this directory as a step of its
own, in one process (under pytest-xdist each worker would start one). When it cannot be had (not
root, no apt-get, the install failed) every test here is skipped with the engine's own one-sentence
reason; as root on the project's machines it installs ``docker.io`` if needed and runs.

Every container a test makes carries the label ``kit-engine-test=<session id>``; the
``containers`` fixture force-removes them all at the end and then checks, through the engine,
that none is left.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from peers.docker_engine import (
    APT_INSTALL_TIMEOUT,
    APT_UPDATE_TIMEOUT,
    DEFAULT_ENV_VAR,
    START_TIMEOUT,
    EngineInfo,
    EngineUnavailable,
    PrivateDockerEngine,
    running_engine,
)
from SockerlessLibrary.client import DockerClient
from SockerlessLibrary.transport import AUTO, Timeouts, Transport
from utest.wire_codecs import create_container

ENGINE_DIR = Path(__file__).resolve().parent
TEST_LABEL = "kit-engine-test"
IMAGE = "alpine:latest"
# The test that starts the engine may have to install it first: its budget covers apt-get.
ENGINE_SETUP_BUDGET = APT_UPDATE_TIMEOUT + APT_INSTALL_TIMEOUT + START_TIMEOUT + 60


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The first engine test (after -k and other deselection) gets the install budget."""
    for item in items:
        if ENGINE_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.timeout(ENGINE_SETUP_BUDGET))
            return


@pytest.fixture(scope="session")
def engine() -> Iterator[EngineInfo]:
    """A started private Docker Engine (skips when it cannot be had here).

    Under ``python -m peers.docker_engine run -- pytest utest/system/engine`` the engine that
    ``run`` started (``KIT_DOCKER_ENGINE_HOST``) is used instead of a second one.
    """
    handed = os.environ.get(DEFAULT_ENV_VAR)
    if handed:
        yield running_engine(handed)
        return
    manager = PrivateDockerEngine(
        log=lambda message: print(f"docker engine: {message}", file=sys.stderr)
    )
    try:
        info = manager.start()
    except EngineUnavailable as error:
        pytest.skip(f"docker engine: unavailable: {error}")
    try:
        yield info
    finally:
        manager.stop()


@pytest.fixture(scope="session")
def session_label() -> dict[str, str]:
    """The label every container of this session carries."""
    return {TEST_LABEL: secrets.token_hex(6)}


def new_client(engine: EngineInfo, *, api_version: str | None = AUTO) -> DockerClient:
    """A library client for the engine (negotiating by default)."""
    transport = Transport(engine.host, api_version=api_version, timeouts=Timeouts(5.0, 30.0))
    return DockerClient(transport)


@pytest.fixture
def make_client(engine: EngineInfo) -> Iterator[Callable[..., DockerClient]]:
    """``make_client(api_version=...)``: a new client of the engine, closed after the test."""
    made: list[DockerClient] = []

    def make(*, api_version: str | None = AUTO) -> DockerClient:
        client = new_client(engine, api_version=api_version)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture(scope="session")
def client(engine: EngineInfo) -> Iterator[DockerClient]:
    """The session's negotiating client."""
    shared = new_client(engine)
    yield shared
    shared.close()


@pytest.fixture
def create(
    client: DockerClient, containers: list[str], session_label: dict[str, str]
) -> Callable[..., str]:
    """``create(*cmd, **create_container kwargs)``: a container of the session image, tracked."""

    def make(*cmd: str, labels: dict[str, str] | None = None, **options: Any) -> str:
        body = create_container(
            client,
            IMAGE,
            cmd=list(cmd) or None,
            labels={**session_label, **(labels or {})},
            **options,
        )
        containers.append(body["Id"])
        return str(body["Id"])

    return make


@pytest.fixture(scope="session")
def containers(engine: EngineInfo, session_label: dict[str, str]) -> Iterator[list[str]]:
    """IDs to force-remove at the end; afterwards none with the session label may be left."""
    created: list[str] = []
    yield created
    client = new_client(engine, api_version="1.41")
    try:
        for container_id in created:
            client.remove_container(container_id, force=True, expected=(204, 404))
        ((key, value),) = session_label.items()
        left = client.list_containers(all=True, filters={"label": [f"{key}={value}"]})
    finally:
        client.close()
    assert left == [], f"containers left behind: {[entry['Id'][:12] for entry in left]}"


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The keyword layer journals to tmp, and any AWS call it might make fails fast locally."""
    for name in (
        "SOCKERLESS_HOST",
        "SOCKERLESS_ECS_SOCKET",
        "AWS_PROFILE",
        "SOCKERLESS_KIT_RUN_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOCKERLESS_KIT_JOURNAL_DIR", str(tmp_path / "journal"))
    monkeypatch.setenv("SOCKERLESS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path
