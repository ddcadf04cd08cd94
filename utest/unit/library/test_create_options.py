"""The create body from keyword options: every option lands in its Docker field, the escape hatches
merge, and nothing is silently chosen, dropped or overridden."""

from __future__ import annotations

from typing import Any

import pytest

from SockerlessLibrary.create_options import (
    ConflictingOption,
    container_create_body,
    environment,
    stop_seconds,
    with_kit_labels,
)
from SockerlessLibrary.errors import ConfigurationError

KIT = {"sockerless-kit.run-id": "run-1", "sockerless-kit.project": "sockerless-ecs-acceptance"}


def body(command: tuple[str, ...] = (), **options: Any) -> dict[str, Any]:
    return container_create_body("alpine:latest", command, KIT, **options)


def test_every_option_lands_in_its_docker_field() -> None:
    assert body(
        ("echo", "hi"),
        entrypoint=["/bin/sh", "-c"],
        env={"FOO": "bar", "N": 1},
        working_dir="/tmp",
        user="nobody",
        labels={"team": "qa"},
        stop_signal="SIGINT",
        stop_timeout=10,
        tty=True,
        open_stdin=True,
    ) == {
        "Image": "alpine:latest",
        "Cmd": ["echo", "hi"],
        "Entrypoint": ["/bin/sh", "-c"],
        "Env": ["FOO=bar", "N=1"],
        "WorkingDir": "/tmp",
        "User": "nobody",
        "Labels": {"team": "qa", **KIT},
        "StopSignal": "SIGINT",
        "StopTimeout": 10,
        "Tty": True,
        "OpenStdin": True,
        "AttachStdout": True,
        "AttachStderr": True,
    }


def test_without_options_the_body_is_what_create_always_sent() -> None:
    assert body(("true",)) == {
        "Image": "alpine:latest",
        "Cmd": ["true"],
        "Tty": False,
        "AttachStdout": True,
        "AttachStderr": True,
        "Labels": KIT,
    }
    assert "Cmd" not in body()  # no command: the image's own


def test_an_entrypoint_string_is_one_word_and_env_may_be_a_list() -> None:
    made = body(entrypoint="/docker-entrypoint.sh", env=["A=1", "B=two words"])
    assert made["Entrypoint"] == ["/docker-entrypoint.sh"]
    assert made["Env"] == ["A=1", "B=two words"]


def test_config_and_host_config_are_merged_into_the_body() -> None:
    made = body(
        ("true",),
        env={"A": "1"},
        config={"Hostname": "box", "Labels": {"from-config": "yes"}, "Healthcheck": {"Test": []}},
        host_config={"Memory": 536870912, "NanoCpus": 250000000},
    )
    assert made["Hostname"] == "box"
    assert made["Healthcheck"] == {"Test": []}
    assert made["Labels"] == {"from-config": "yes", **KIT}  # the kit's labels are added there too
    assert made["HostConfig"] == {"Memory": 536870912, "NanoCpus": 250000000}
    assert made["Env"] == ["A=1"]
    as_json = body(config='{"Hostname": "box"}', host_config='{"Memory": 1}')
    assert (as_json["Hostname"], as_json["HostConfig"]) == ("box", {"Memory": 1})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"env": {"A": "1"}, "config": {"Env": ["B=2"]}}, r"Env \(env=\)"),
        ({"working_dir": "/a", "config": {"WorkingDir": "/b"}}, r"WorkingDir \(working_dir=\)"),
        ({"labels": {"a": "1"}, "config": {"Labels": {"b": "2"}}}, r"Labels \(labels=\)"),
        ({"tty": False, "config": {"Tty": True}}, r"Tty \(tty=\)"),
        ({"config": {"Image": "busybox"}}, "config may not set Image"),
        ({"host_config": {"Memory": 1}, "config": {"HostConfig": {}}}, "HostConfig given twice"),
    ],
)
def test_a_field_given_twice_fails_instead_of_one_silently_winning(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConflictingOption, match=message):
        body(**options)


def test_the_command_and_config_cmd_together_fail() -> None:
    with pytest.raises(ConflictingOption, match="Cmd given twice"):
        body(("echo",), config={"Cmd": ["true"]})
    assert body(config={"Cmd": ["true"]})["Cmd"] == ["true"]  # config may carry it alone


def test_the_kits_labels_cannot_be_overridden() -> None:
    with pytest.raises(ConflictingOption, match=r"sockerless-kit.run-id belong to the kit"):
        body(labels={"sockerless-kit.run-id": "someone-else"})
    with pytest.raises(ConflictingOption, match="belong to the kit"):
        with_kit_labels({"Labels": {"sockerless-kit.project": "x"}}, KIT)
    assert with_kit_labels({"Labels": dict(KIT)}, KIT)["Labels"] == KIT  # the same value is fine


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"labels": "team=qa"}, "labels must be a dictionary"),
        ({"env": "FOO=bar"}, "env must be a dictionary or a list"),
        ({"env": ["FOO"]}, "env items must read 'KEY=value'"),
        ({"config": "not json"}, "config must be a dictionary"),
        ({"host_config": [1]}, "host_config must be a dictionary"),
    ],
)
def test_a_value_of_the_wrong_shape_fails_naming_the_option(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        body(**options)


def test_env_has_one_rule_for_create_and_exec() -> None:
    assert environment({"A": "1", "B": "", "N": 3}) == ["A=1", "B=", "N=3"]
    assert environment(["A=1", "B=x=y"]) == ["A=1", "B=x=y"]
    assert body(env={"A": ""})["Env"] == ["A="]  # what create sends is what exec sends


@pytest.mark.parametrize(
    ("env", "message"),
    [
        # None would go out as the text "None"; docker-py sends a bare KEY, which Docker reads
        # as "remove KEY": neither is what a test that wrote ${NONE} can rely on.
        ({"A": "1", "B": None}, r"env value of B is None: give a text \(\$\{EMPTY\}"),
        ({"": "x"}, "env names must be non-empty, without '='"),
        ({"A=B": "x"}, "env names must be non-empty, without '='"),
        (["FOO"], "env items must read 'KEY=value'"),
        (["=x"], "env items must read 'KEY=value'"),
        ([1], "env items must read 'KEY=value'"),
    ],
)
def test_env_values_that_cannot_be_sent_as_written_are_refused(env: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        environment(env)
    with pytest.raises(ConfigurationError, match=message):
        body(env=env)


def test_a_stop_time_may_be_zero_but_not_negative() -> None:
    assert stop_seconds(None) is None
    assert stop_seconds(0) == 0  # Docker's t=0: kill at once
    assert body(stop_timeout=10)["StopTimeout"] == 10
    with pytest.raises(ConfigurationError, match="stop_timeout must be 0 or more seconds"):
        stop_seconds(-5)
    with pytest.raises(ConfigurationError, match="nothing was sent"):
        body(stop_timeout=-1)
