"""Docker-only mode: the target is a plain Docker Engine (the conformance suite's reference),
which has no AWS side to prove or clean (see `Enter Docker-Only Mode`)."""

from __future__ import annotations

from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from ..listeners.log import log
from . import LibraryComponent

MODE_METADATA = "Mode"
MODE_DESCRIPTION = "Docker-only: Docker behaviour checked, nothing checked on AWS"


class DockerOnlyKeywords(LibraryComponent):
    """The Docker-only mode of the conformance suite."""

    @keyword("Enter Docker-Only Mode", tags=("Target",))
    def enter_docker_only_mode(self) -> None:
        """Declares the target a plain Docker Engine for the rest of the run: Docker-only mode.

        The conformance suite calls it when ``DOCKER_ONLY`` is true, and then checks Docker
        behaviour only (no ECS task is proven, no AWS leftover looked for). For the library
        one thing changes: a cleanup in a run *without* AWS credentials removes the container
        through the daemon and is complete (there is no AWS side to clean), where otherwise it
        would stay pending for the sweeper. With credentials, AWS is cleaned as always. The
        Fargate proofs do not change: against a plain Docker Engine they still fail. The
        report metadata ``Mode`` says ``Docker-only``.

        Fails unless the daemon answers ``GET /_ping``.

        Example:
        | Enter Docker-Only Mode |
        """
        self.ctx.docker_only = True
        answer = self.client.ping()
        if answer.strip() != "OK":
            raise AssertionError(f"The Docker Engine answered the ping with {answer[:200]!r}")
        BuiltIn().set_suite_metadata(MODE_METADATA, MODE_DESCRIPTION, top=True)
        log(f"Docker-only mode: {self.ctx.target().describe()}; {MODE_DESCRIPTION}")
