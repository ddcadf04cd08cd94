"""Docker-only mode: a cleanup without AWS credentials removes through the daemon and is complete;
with credentials the AWS side is cleaned as in any run. Nothing else in the library changes."""

from __future__ import annotations

import pytest

from SockerlessLibrary.aws.teardown import clean_up_container
from SockerlessLibrary.run.janitor import NO_AWS_SIDE, no_aws_side

CID = "0123456789ab" + "c" * 52


@pytest.mark.parametrize(
    ("docker_only", "credentials", "reason"),
    [
        (True, "missing", NO_AWS_SIDE),
        (True, "available", None),
        (True, "simulator", None),
        (False, "missing", None),
        (False, "available", None),
    ],
)
def test_only_docker_only_mode_without_credentials_has_no_aws_side(
    docker_only: bool, credentials: str, reason: str | None
) -> None:
    assert no_aws_side(docker_only, credentials) == reason


def test_in_docker_only_mode_a_removal_through_the_daemon_completes_the_cleanup() -> None:
    removed: list[str] = []

    result = clean_up_container(
        CID,
        remove_from_daemon=lambda cid: removed.append(cid) or 204,
        cleaner=None,
        aws_skip_reason=no_aws_side(True, "missing"),
        aws_unavailable="no AWS credentials in the environment",
        log=lambda _: None,
    )

    assert removed == [CID]
    assert result.complete
    assert result.summary() == (
        f"Clean-up of container {CID[:12]}: daemon removed (force); AWS side skipped: "
        "Docker-only mode without AWS credentials: the target has no AWS side to clean"
    )


def test_out_of_docker_only_mode_a_cleanup_without_credentials_stays_pending() -> None:
    result = clean_up_container(
        CID,
        remove_from_daemon=lambda cid: 204,
        cleaner=None,
        aws_skip_reason=no_aws_side(False, "missing"),
        aws_unavailable="no AWS credentials in the environment",
        log=lambda _: None,
    )

    assert not result.complete
    assert "AWS side not cleaned: no AWS credentials in the environment" in result.errors
    # Said once, as what is left, not also as a skip.
    assert result.summary() == (
        f"Clean-up of container {CID[:12]}: daemon removed (force); AWS side not cleaned: "
        "no AWS credentials in the environment"
    )
