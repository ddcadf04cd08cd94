"""The recipe of ``iam/README.md`` for another cluster and log group gives a policy that works
there, and only there."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_helpers import NO_RETRIES, start_plane
from botocore.exceptions import ClientError

from sockerless_sim.aws.plane import AwsPlane

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).resolve().parents[3]
CLUSTER, LOG_GROUP = "my-cluster", "/my/log-group"


def readme_recipe() -> str:
    """The shell lines of the README's ``sed`` example, as documented."""
    readme = (ROOT / "iam" / "README.md").read_text()
    block = re.search(r"```sh\n(CLUSTER=.*?)```", readme, re.DOTALL)
    assert block, "iam/README.md lost its example for another cluster and log group"
    return block.group(1)


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsPlane]:
    workdir = tmp_path_factory.mktemp("renamed")
    # Run from the repository (the recipe reads iam/...), writing into the work directory.
    recipe = readme_recipe().replace("> sockerless-kit-policy.json", f"> {workdir}/policy.json")
    subprocess.run(["sh", "-ec", recipe], cwd=ROOT, check=True, timeout=10)
    policy = workdir / "policy.json"
    assert 'sockerless"' not in policy.read_text() and "/sockerless:" not in policy.read_text()
    started = start_plane(
        tmp_path_factory, iam_policy=str(policy), cluster=CLUSTER, log_group=LOG_GROUP
    )
    yield started
    started.stop()


def kit(plane: AwsPlane, service: str) -> Any:
    assert plane.iam is not None
    keys = json.loads(Path(plane.iam.credentials_file).read_text())
    session = boto3.session.Session(
        region_name=plane.region,
        aws_access_key_id=keys["aws_access_key_id"],
        aws_secret_access_key=keys["aws_secret_access_key"],
    )
    return session.client(service, endpoint_url=plane.endpoint_url, config=NO_RETRIES)


def test_the_renamed_policy_allows_the_new_cluster_and_group_only(plane: AwsPlane) -> None:
    plane.client("ecs", internal=True).create_cluster(clusterName="sockerless")
    plane.client("logs", internal=True).create_log_group(logGroupName="/sockerless")
    ecs, logs = kit(plane, "ecs"), kit(plane, "logs")
    ecs.list_tasks(cluster=CLUSTER)
    assert ecs.describe_clusters(clusters=[CLUSTER])["clusters"]
    logs.describe_log_streams(logGroupName=LOG_GROUP)
    for call in (
        lambda: ecs.list_tasks(cluster="sockerless"),
        lambda: ecs.describe_clusters(clusters=["sockerless"]),
        lambda: logs.describe_log_streams(logGroupName="/sockerless"),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
