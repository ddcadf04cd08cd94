"""Robot listener for the secrets test: reads every agent token back from ECS during the run.

The daemon (real sockerless or the embedded simulator) puts a fresh ``SOCKERLESS_AGENT_TOKEN`` in
each container's task definition. At the end of every test and suite this listener asks ECS (with
the library's own boto3 client) for the task definitions of the ``sockerless-`` families, ACTIVE
and INACTIVE (a removed container's revision is INACTIVE and still describable), and appends
each token it has not seen yet to the file given as its argument, so the test can then search
the run's outputs for them. It never logs anything.

    robot --listener utest/system/hostile/agent_token_listener.py:/tmp/tokens.txt ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from robot.libraries.BuiltIn import BuiltIn

TOKEN_VARIABLE = "SOCKERLESS_AGENT_TOKEN"
FAMILY_PREFIX = "sockerless-"


class agent_token_listener:
    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.seen_arns: set[str] = set()

    def end_test(self, data: Any, result: Any) -> None:
        self._collect()

    def end_suite(self, data: Any, result: Any) -> None:
        self._collect()

    def _collect(self) -> None:
        try:
            library = BuiltIn().get_library_instance("SockerlessLibrary")
        except RuntimeError:
            return  # a suite that does not import the library (the top-level directory suites)
        context = library._context
        if context.connected_target() is None:
            return
        ecs = context.aws_client("ecs")
        tokens: list[str] = []
        for status in ("ACTIVE", "INACTIVE"):
            # familyPrefix is filtered here: moto treats it as an exact family name.
            pages = ecs.get_paginator("list_task_definitions").paginate(status=status)
            for page in pages:
                for arn in page["taskDefinitionArns"]:
                    family = arn.rsplit("/", 1)[-1]
                    if arn in self.seen_arns or not family.startswith(FAMILY_PREFIX):
                        continue
                    self.seen_arns.add(arn)
                    definition = ecs.describe_task_definition(taskDefinition=arn)
                    for container in definition["taskDefinition"]["containerDefinitions"]:
                        for pair in container.get("environment", []):
                            if pair.get("name") == TOKEN_VARIABLE and pair.get("value"):
                                tokens.append(pair["value"])
        if tokens:
            with self.path.open("a", encoding="utf-8") as out:
                out.writelines(token + "\n" for token in tokens)
