"""The conformance suite and the matrices kept with it agree: every probe names the Docker
behaviour it checks and its Fargate tasks, and the reference, expected and measured matrices in
docs/conformance/ have exactly the suite's probes (a probe added later cannot miss one)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from robot import api as robot_api

from SockerlessLibrary.conformance import Matrix, read_expectations

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs" / "conformance"


def probes() -> dict[str, object]:
    suite = robot_api.TestSuiteBuilder().build(str(ROOT / "suites" / "conformance"))
    return {test.name: test for test in suite.all_tests}


def test_every_probe_is_tagged_names_its_docker_reference_and_declares_its_tasks() -> None:
    found = probes()

    assert len(found) >= 50
    for name, test in found.items():
        tags = [str(tag) for tag in test.tags]  # type: ignore[attr-defined]
        assert "conformance" in tags, name
        assert [t for t in tags if t.startswith("fargate-tasks:")], name
        assert "Docker: https://docs.docker.com/" in str(test.doc), name  # type: ignore[attr-defined]


def test_the_docker_engine_reference_passes_every_probe_of_the_suite() -> None:
    reference = Matrix.read(DOCS / "docker-engine.json")

    assert [p.name for p in reference.probes if p.status != "PASS"] == []
    assert {p.name for p in reference.probes} == set(probes())
    assert reference.run["mode"] == "docker-only"


@pytest.mark.parametrize("name", ["expected-simulator.json", "expected-sockerless-profile.json"])
def test_each_expected_matrix_has_exactly_the_suites_probes(name: str) -> None:
    assert set(read_expectations(DOCS / name)) == set(probes())


def test_the_measured_sockerless_matrix_has_the_suites_probes_and_says_what_ran() -> None:
    (measured,) = sorted(DOCS.glob("sockerless-*.json"))
    matrix = Matrix.read(measured)

    assert {p.name for p in matrix.probes} == set(probes())
    commit = measured.stem.removeprefix("sockerless-")
    assert commit in matrix.run["label"] and matrix.run["mode"] == "ecs"
    assert json.loads(measured.read_text())["run"]["written"].startswith("2026-")


# What the simulator cannot do as sockerless does (docs/conformance.md says why).
NOT_REPRODUCED = {"Main Process Runs As PID 1", "Empty Lines Are Kept"}


def test_the_sockerless_profile_expects_the_measured_matrix_with_the_same_causes() -> None:
    """Every probe's expectation on the profile holds for the real daemon's result too (status
    and message, so the same cause), but for what the profile cannot reproduce."""
    (measured,) = sorted(DOCS.glob("sockerless-*.json"))
    expected = read_expectations(DOCS / "expected-sockerless-profile.json")

    probes = Matrix.read(measured).probes

    assert {p.name for p in probes if not expected[p.name].holds_for(p)} == NOT_REPRODUCED
