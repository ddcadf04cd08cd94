"""botocore parses each model file once per simulator process, and refuses another botocore."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import sockerless_sim.aws  # noqa: F401 - importing the package installs the shared parse
from sockerless_sim.aws import model_cache

pytestmark = pytest.mark.timeout(60)

COUNT_PARSES = """
import json, sys
import botocore.loaders as loaders
parses = []
real_parse = loaders.JSONFileLoader._load_file
def counting(self, full_path, open_method):
    data = real_parse(self, full_path, open_method)
    if data is not None and full_path.endswith("ec2/2016-11-15/service-2.json.gz"):
        parses.append(full_path)
    return data
loaders.JSONFileLoader._load_file = counting
if sys.argv[1] == "shared":
    import sockerless_sim.aws
import boto3
for _ in range(3):
    boto3.session.Session().client("ec2", region_name="us-east-1")
print(json.dumps(len(parses)))
"""


def ec2_model_parses(mode: str) -> int:
    output = subprocess.run(
        [sys.executable, "-c", COUNT_PARSES, mode],
        capture_output=True,
        text=True,
        timeout=50,
        check=True,
    ).stdout
    return int(json.loads(output))


def test_three_sessions_parse_the_ec2_model_once_instead_of_three_times() -> None:
    assert ec2_model_parses("plain") == 3
    assert ec2_model_parses("shared") == 1


def test_another_botocore_version_is_refused_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_cache.botocore, "__version__", "1.99.0")
    problems = model_cache.find_problems()
    assert problems == [
        "botocore 1.99.0 is installed, the simulator wraps 1.44.5's loader "
        "(pinned by the kit's simulator extra, requirements-simulator.txt)"
    ]
