"""A create cut short before its answer: the container the daemon made anyway is found and cleaned.

The simulator's Docker fault ``drop_after_bytes=0`` makes the daemon do the create and then close
the connection without a byte of the answer: exactly what the library sees when a signal, a Robot
timeout or a read timeout cuts ``Create Container`` short while the daemon carries on.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest

from sockerless_sim.unix_http import UnixHTTPConnection
from SockerlessLibrary import SockerlessLibrary
from SockerlessLibrary.errors import DaemonResponseError, SockerlessError
from SockerlessLibrary.journal import RunJournal
from SockerlessLibrary.run.registry import everything

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

CREATE_ROUTE = "POST /containers/create"


def inject(lib: SockerlessLibrary, **fault: Any) -> None:
    """Arm a fault on the library's own simulator through its control endpoint."""
    simulator = lib._context.target().simulator
    assert simulator is not None
    connection = UnixHTTPConnection(simulator.info.socket_path, 10.0)
    try:
        body = json.dumps({"target": "docker", **fault})
        connection.request("POST", "/_sim/faults", body, {"Content-Type": "application/json"})
        answer = connection.getresponse()
        assert answer.status == 201, answer.read()
    finally:
        connection.close()


def containers_named(lib: SockerlessLibrary, name: str) -> list[dict[str, Any]]:
    return [c for c in lib.list_containers(all=True) if f"/{name}" in c["Names"]]


@pytest.mark.parametrize("name", ["answer-lost", None], ids=["named", "unnamed"])
def test_a_create_whose_answer_was_lost_is_found_and_cleaned(
    embedded_library: SockerlessLibrary, name: str | None
) -> None:
    lib = embedded_library
    lib.connect_to_sockerless()
    inject(lib, route=CREATE_ROUTE, drop_after_bytes=0, count=1)

    with pytest.raises(SockerlessError):
        lib.create_container("alpine:latest", "tail", "-f", "/dev/null", name=name)
    made = lib.list_containers(all=True)
    assert len(made) == 1, made  # the daemon did create it: only the answer was lost
    assert lib._context.registry.unconfirmed(everything) != []

    cleaned = lib.clean_up_registered_resources(scope="all")

    assert cleaned == [made[0]["Id"]]
    assert lib.list_containers(all=True) == []
    lib.container_should_leave_no_aws_resources(made[0]["Id"])
    assert lib._context.registry.unconfirmed(everything) == []
    assert RunJournal(lib._context.journal.directory, "e2e-run").pending() == []


def test_a_create_the_daemon_refused_leaves_nothing_to_look_for(
    embedded_library: SockerlessLibrary,
) -> None:
    lib = embedded_library
    lib.connect_to_sockerless()
    inject(lib, route=CREATE_ROUTE, status=500, count=1)

    with pytest.raises(DaemonResponseError):
        lib.create_container("alpine:latest", "true", name="refused")

    assert lib._context.registry.unconfirmed(everything) == []
    assert containers_named(lib, "refused") == []


def test_a_lost_answer_without_a_container_is_waited_for_only_until_it_was_due(
    embedded_library: SockerlessLibrary,
) -> None:
    lib = embedded_library
    lib.connect_to_sockerless(read_timeout=timedelta(seconds=1))
    taken = lib.create_container("alpine:latest", "true", name="taken")
    # The daemon answers 409 (the name is taken) into a dropped connection: no container, no
    # answer. Cleanup must give up when the answer was due, and not touch the holder of the name.
    inject(lib, route=CREATE_ROUTE, drop_after_bytes=0, count=1)
    with pytest.raises(SockerlessError):
        lib.create_container("alpine:latest", "true", name="taken")

    started = time.monotonic()
    cleaned = lib.clean_up_registered_resources(scope="all")
    waited = time.monotonic() - started

    assert cleaned == [taken]
    assert waited < 5.0, f"waited {waited:.1f} s for an answer due within 1 s"
    assert lib._context.registry.unconfirmed(everything) == []
