"""The Docker conformance suite in Docker-only mode against a plain Docker Engine (the project's
private one, ``peers.docker_engine``): every probe passes, as in the reference matrix
``docs/conformance/docker-engine.json`` (``python3 tasks.py conformance`` and a step of
``python3 tasks.py test``). No AWS credentials reach it: a plain Docker Engine has no AWS side.
Without root or the package the module is skipped, saying why.
"""

from __future__ import annotations

import pytest
from conformance_runs import (
    ConformanceRun,
    conformance_run,
    expected,
    matrix_problems,
    probe_problem,
)
from robot_runs import PEER_ENGINE, RUN_TIME_LIMIT_SECONDS

import tasks

EXPECTED = expected("docker-engine.json")
DOCKER_LABEL = "the project's private Docker Engine (peers/docker_engine.py)"

# Bounded as tasks.py bounds the step that runs this module.
pytestmark = pytest.mark.timeout(RUN_TIME_LIMIT_SECONDS)


@pytest.fixture(scope="module")
def docker_run() -> ConformanceRun:
    env = {
        k: v
        for k, v in tasks.embedded_environment().items()
        if k not in tasks.AWS_CREDENTIAL_VARIABLES
    }
    options = [
        *("--variable", "DOCKER_ONLY:true", "--variable", f"CONFORMANCE_LABEL:{DOCKER_LABEL}"),
        *("--name", "Docker Conformance On A Docker Engine"),
    ]
    return conformance_run("conformance-docker", options, env, engine=PEER_ENGINE)


@pytest.mark.parametrize("probe", EXPECTED)
def test_the_docker_engine_passes_the_probe(docker_run: ConformanceRun, probe: str) -> None:
    problem = probe_problem(docker_run, probe, EXPECTED[probe])
    assert problem is None, problem


def test_the_matrix_has_no_other_probe_and_says_what_the_run_said(
    docker_run: ConformanceRun,
) -> None:
    assert matrix_problems(docker_run, EXPECTED) == []
