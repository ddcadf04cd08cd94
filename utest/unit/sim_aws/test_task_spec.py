"""What runs for a task: the agent wrapper stripped, overrides, environment, log target."""

from __future__ import annotations

from typing import Any

from sockerless_sim.aws.task_spec import log_target, plan_container, strip_agent_wrapper


def test_agent_wrapper_is_stripped() -> None:
    assert strip_agent_wrapper(["/sockerless-agent", "--", "echo", "hi"]) == ["echo", "hi"]
    assert strip_agent_wrapper(
        ["/sockerless/bin/sockerless-agent", "--addr", ":9111", "--keep-alive", "--", "sh", "--"]
    ) == ["sh", "--"]
    assert strip_agent_wrapper(["echo", "--", "x"]) == ["echo", "--", "x"]
    assert strip_agent_wrapper([]) == []


def test_plan_uses_main_container_with_overrides_and_token() -> None:
    definitions = [
        {"name": "sidecar", "image": "busybox", "command": ["sleep", "1"]},
        {
            "name": "main",
            "image": "alpine:latest",
            "entryPoint": ["/sockerless-agent", "--"],
            "command": ["echo", "declared"],
            "environment": [
                {"name": "A", "value": "1"},
                {"name": "SOCKERLESS_AGENT_TOKEN", "value": "secret-token"},
            ],
            "stopTimeout": 5,
        },
    ]
    overrides = {
        "containerOverrides": [
            {
                "name": "main",
                "command": ["echo", "override"],
                "environment": [{"name": "B", "value": "2"}],
            }
        ]
    }

    plan = plan_container(
        definitions, overrides, task_id="t1", default_log_group="/g", default_stop_timeout=30
    )

    assert plan.name == "main"
    assert plan.argv == ["echo", "override"]
    assert plan.command_line == ["/sockerless-agent", "--", "echo", "override"]
    assert plan.env == {"A": "1", "SOCKERLESS_AGENT_TOKEN": "secret-token", "B": "2"}
    assert plan.agent_token == "secret-token"
    assert plan.stop_timeout == 5.0
    assert plan.log_target is None


def test_log_target_follows_the_awslogs_options() -> None:
    definition = {
        "name": "main",
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": "/custom", "awslogs-stream-prefix": "abc123"},
        },
    }
    target = log_target(definition, "task-id", "/default")
    assert target is not None
    assert (target.group, target.stream, target.create_group) == (
        "/custom",
        "abc123/main/task-id",
        False,
    )
    definition["logConfiguration"] = {"logDriver": "awslogs", "options": {}}
    target = log_target(definition, "task-id", "/default")
    assert target is not None and target.group == "/default"
    assert (
        log_target({"name": "main", "logConfiguration": {"logDriver": "json-file"}}, "t", "/d")
        is None
    )


def test_a_tasks_delay_key_is_what_it_runs_not_its_names_or_secrets() -> None:
    def plan(name: str, command: list[str], token: str) -> str:
        definition: dict[str, Any] = {
            "name": name,
            "image": "busybox",
            "entryPoint": ["/sockerless-agent", "--"],
            "command": command,
            "environment": [{"name": "SOCKERLESS_AGENT_TOKEN", "value": token}],
        }
        return plan_container(
            [definition],
            None,
            task_id=f"task-{name}",
            default_log_group="/g",
            default_stop_timeout=30,
        ).delay_key

    echo = plan("lifecycle-1a2b", ["echo", "hi"], "token-one")
    assert echo == plan("lifecycle-9f8e", ["echo", "hi"], "token-two")
    assert echo != plan("lifecycle-1a2b", ["echo", "bye"], "token-one")
    assert "token" not in echo and "sockerless-agent" not in echo
